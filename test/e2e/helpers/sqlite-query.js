#!/usr/bin/env node
/**
 * Reads n8n's SQLite database for the e2e tests. Runs under the cached n8n's Node 24,
 * with the `sqlite3` and `flatted` modules of that install: the only `sqlite3` build on
 * the machine that matches Node 24 (the tests themselves run on Node 20).
 *
 *   node sqlite-query.js '<json request>'
 *   request: { install: <n8n cache dir>, db: <database.sqlite>, sql, params?, flatted?: [column names] }
 *
 * Prints the rows as JSON on stdout. Columns named in `flatted` hold n8n's
 * flatted-serialised execution data and are decoded. The database is opened read-only;
 * n8n runs SQLite in WAL mode, so reading while n8n writes is safe.
 */
'use strict';

const path = require('node:path');

const request = JSON.parse(process.argv[2] ?? '{}');
const sqlite3 = require(path.join(request.install, 'node_modules', 'sqlite3'));
const flatted = require(path.join(request.install, 'node_modules', 'flatted'));

const db = new sqlite3.Database(request.db, sqlite3.OPEN_READONLY, (openError) => {
	if (openError) fail(openError);
	db.configure('busyTimeout', 5000); // n8n may hold a write lock for a moment
	db.all(request.sql, request.params ?? [], (queryError, rows) => {
		if (queryError) fail(queryError);
		for (const row of rows) {
			for (const column of request.flatted ?? []) {
				if (typeof row[column] === 'string') row[column] = flatted.parse(row[column]);
			}
		}
		db.close(() => process.stdout.write(JSON.stringify(rows)));
	});
});

/** @param {Error} error */
function fail(error) {
	process.stderr.write(`${error.message}\n`);
	process.exit(1);
}
