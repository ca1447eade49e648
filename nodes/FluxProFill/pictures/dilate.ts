/**
 * Grows the white (255) part of a 0/255 plane in place by `radius` pixels with a square
 * (2·radius+1)² kernel: every pixel within Chebyshev distance `radius` of a white pixel
 * becomes white. Returns the number of white pixels afterwards.
 *
 * The square kernel is separable: a horizontal then a vertical 1-D max filter, each
 * O(width·height) whatever the radius.
 */
export function dilateSquare(
	plane: Uint8Array,
	width: number,
	height: number,
	radius: number,
): number {
	const r = Math.min(radius, Math.max(width, height));
	if (r <= 0) return countWhite(plane);
	dilateRows(plane, width, height, r);
	return dilateColumns(plane, width, height, r);
}

/**
 * Each row: find its white runs (indexOf is a native byte search), then widen each run
 * by r on both sides with fill. The runs are collected before filling, so widened
 * pixels never widen further.
 */
function dilateRows(plane: Uint8Array, width: number, height: number, r: number): void {
	const runs: number[] = [];
	for (let y = 0; y < height; y++) {
		const row = plane.subarray(y * width, (y + 1) * width);
		let from = row.indexOf(255);
		if (from < 0) continue;
		runs.length = 0;
		while (from >= 0) {
			let to = row.indexOf(0, from);
			if (to < 0) to = width;
			runs.push(from, to);
			from = to < width ? row.indexOf(255, to) : -1;
		}
		for (let k = 0; k < runs.length; k += 2) {
			row.fill(255, Math.max(0, runs[k] - r), Math.min(width, runs[k + 1] + r));
		}
	}
}

/**
 * Down then up, row by row (memory in order), remembering for every column the row of
 * the nearest white pixel above (then below). Pixels the downward pass turns white are
 * marked 1, so that they do not spread further; the upward pass sets them to 255 and
 * counts. Rows farther than r from any white row and without white are skipped.
 */
function dilateColumns(plane: Uint8Array, width: number, height: number, r: number): number {
	const nearest = new Int32Array(width).fill(-r - 1);
	let lastWhiteRow = -r - 1;
	for (let y = 0; y < height; y++) {
		const start = y * width;
		const hasWhite = plane.subarray(start, start + width).indexOf(255) >= 0;
		if (hasWhite) lastWhiteRow = y;
		else if (y - lastWhiteRow > r) continue;
		for (let x = 0; x < width; x++) {
			const i = start + x;
			if (plane[i] === 255) nearest[x] = y;
			else if (y - nearest[x] <= r) plane[i] = 1;
		}
	}
	nearest.fill(height + r);
	let nextWhiteRow = height + r;
	let white = 0;
	for (let y = height - 1; y >= 0; y--) {
		const start = y * width;
		const hasWhite = plane.subarray(start, start + width).indexOf(255) >= 0;
		if (hasWhite) nextWhiteRow = y;
		else if (nextWhiteRow - y > r && plane.subarray(start, start + width).indexOf(1) < 0) continue;
		for (let x = 0; x < width; x++) {
			const i = start + x;
			const value = plane[i];
			if (value === 255) {
				nearest[x] = y;
				white++;
			} else if (value === 1 || nearest[x] - y <= r) {
				plane[i] = 255;
				white++;
			}
		}
	}
	return white;
}

function countWhite(plane: Uint8Array): number {
	let white = 0;
	for (let i = 0; i < plane.length; i++) if (plane[i] === 255) white++;
	return white;
}
