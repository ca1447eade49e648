#!/usr/bin/env node
// Regenerates the pictures in docs/images/ that the README shows: for each mask source,
// the mask the node sent and the result, made by running the node against the emulator.
'use strict';

require('./lib/register-ts');
const fs = require('node:fs');
const path = require('node:path');
const sharp = require('sharp');

const { startFalEmulator } = require('../test/emulator');
const { runNode, prepareBinary, cleanupN8nHarness } = require('../test/helpers/n8nHarness');
const { FluxProFill } = require('../nodes/FluxProFill/FluxProFill.node.ts');

const OUT = path.join(__dirname, '..', 'docs', 'images');
const KEY = 'readme-key-id:readme-key-secret';
const WIDTH = 256;

async function main() {
	fs.mkdirSync(OUT, { recursive: true });
	const emu = await startFalEmulator({ validKeys: [KEY] });
	const image = await sharp(path.join(__dirname, '..', 'examples', 'image.png'))
		.resize({ width: WIDTH })
		.png()
		.toBuffer();
	const { height } = await sharp(image).metadata();
	const mask = await sharp(path.join(__dirname, '..', 'examples', 'mask.png'))
		.resize({ width: WIDTH })
		.png()
		.toBuffer();
	const { data } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
	for (let y = 20; y < 70; y++) for (let x = 170; x < 240; x++) data[(y * WIDTH + x) * 4 + 3] = 0;
	const withHole = await sharp(data, { raw: { width: WIDTH, height, channels: 4 } })
		.png()
		.toBuffer();

	const sky = await sharp(path.join(__dirname, '..', 'examples', 'sky.png'))
		.resize({ width: WIDTH })
		.png()
		.toBuffer();
	const cases = {
		binary: { binary: { data: image, mask }, parameters: {} },
		alpha: { binary: { data: withHole }, parameters: { maskSource: 'alpha' } },
		rectangles: {
			binary: { data: image },
			parameters: {
				maskSource: 'rectangles',
				maskRectangles: {
					rectangle: [{ left: 5, top: 55, width: 30, height: 25, unit: 'percent' }],
				},
			},
		},
		'invert-grow': {
			binary: { data: image, mask },
			parameters: { options: { invertMask: true, growMask: 6 } },
		},
		text: {
			binary: { data: sky },
			parameters: { maskSource: 'text', maskPrompt: 'the sky' },
		},
		expand: {
			binary: { data: image },
			parameters: {
				maskSource: 'expand',
				expandBy: 'aspectRatio',
				expandAspectRatio: '16:9',
				expandAnchor: 'center',
			},
		},
	};
	fs.writeFileSync(path.join(OUT, 'image.png'), image);
	fs.writeFileSync(path.join(OUT, 'image-with-hole.png'), withHole);
	fs.writeFileSync(path.join(OUT, 'sky.png'), sky);
	for (const [name, { binary, parameters }] of Object.entries(cases)) {
		const result = await runNode({
			nodeType: new FluxProFill(),
			typeName: 'n8n-nodes-fal-flux-fill.fluxProFill',
			parameters: {
				operation: 'fill',
				prompt: 'readme',
				...parameters,
				options: { outputFormat: 'png', returnMask: true, seed: 7, ...parameters.options },
			},
			credentials: { falApi: { apiKey: KEY, proxyUrl: emu.proxyUrl } },
			inputItems: [
				{
					json: {},
					binary: Object.fromEntries(
						Object.entries(binary).map(([k, v]) => [k, prepareBinary(v, `${k}.png`, 'image/png')]),
					),
				},
			],
		});
		if (result.error) throw result.error;
		fs.writeFileSync(
			path.join(OUT, `mask-${name}.png`),
			await result.binary(result.items[0], 'mask'),
		);
		fs.writeFileSync(
			path.join(OUT, `result-${name}.png`),
			await result.binary(result.items[0], 'data'),
		);
	}
	await emu.close();
	cleanupN8nHarness();
	console.log(`written to ${OUT}`);
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
