/**
 * Grows the white (255) part of a 0/255 plane in place by `radius` pixels with a square
 * (2·radius+1)² kernel, i.e. every pixel within Chebyshev distance `radius` of a white
 * pixel becomes white. Returns the number of white pixels afterwards.
 *
 * The square kernel is separable: a horizontal then a vertical 1-D max filter. Each 1-D
 * pass scans forward and backward remembering the nearest white pixel, so the cost is
 * O(width·height) whatever the radius. Pixels a pass turns white are first marked 1, so
 * that they do not spread further in the same pass, then set to 255.
 */
export function dilateSquare(plane: Uint8Array, width: number, height: number, radius: number): number {
	const r = Math.min(radius, Math.max(width, height));
	if (r > 0) {
		dilateRows(plane, width, height, r);
		dilateColumns(plane, width, height, r);
	}
	let white = 0;
	for (let i = 0; i < plane.length; i++) {
		if (plane[i] !== 0) {
			plane[i] = 255;
			white++;
		}
	}
	return white;
}

function dilateRows(plane: Uint8Array, width: number, height: number, r: number): void {
	for (let y = 0; y < height; y++) {
		const start = y * width;
		const end = start + width;
		let last = start - r - 1;
		for (let i = start; i < end; i++) {
			if (plane[i] === 255) last = i;
			else if (i - last <= r) plane[i] = 1;
		}
		if (last < start) continue; // no white pixel in this row
		let next = end + r;
		for (let i = end - 1; i >= start; i--) {
			if (plane[i] === 255) next = i;
			else if (next - i <= r) plane[i] = 1;
		}
		for (let i = start; i < end; i++) if (plane[i] === 1) plane[i] = 255;
	}
}

function dilateColumns(plane: Uint8Array, width: number, height: number, r: number): void {
	// Row by row, with the nearest white row of every column, to read memory in order.
	const nearest = new Int32Array(width).fill(-r - 1);
	for (let y = 0; y < height; y++) {
		const start = y * width;
		for (let x = 0; x < width; x++) {
			const i = start + x;
			if (plane[i] === 255) nearest[x] = y;
			else if (y - nearest[x] <= r) plane[i] = 1;
		}
	}
	nearest.fill(height + r);
	for (let y = height - 1; y >= 0; y--) {
		const start = y * width;
		for (let x = 0; x < width; x++) {
			const i = start + x;
			if (plane[i] === 255) nearest[x] = y;
			else if (nearest[x] - y <= r) plane[i] = 1;
		}
	}
}
