import { dilateSquare } from '../../../nodes/FluxProFill/pictures/dilate';

/** The definition: white where any white pixel lies within Chebyshev distance `radius`. */
function bruteForce(plane: Uint8Array, width: number, height: number, radius: number) {
	const out = new Uint8Array(plane.length);
	for (let y = 0; y < height; y++)
		for (let x = 0; x < width; x++) {
			let hit = false;
			for (let v = Math.max(0, y - radius); v <= Math.min(height - 1, y + radius) && !hit; v++)
				for (let u = Math.max(0, x - radius); u <= Math.min(width - 1, x + radius) && !hit; u++)
					hit = plane[v * width + u] === 255;
			out[y * width + x] = hit ? 255 : 0;
		}
	return out;
}

/** A deterministic 0/255 plane with about `density` of it white. */
function randomPlane(length: number, density: number, seed: number) {
	let state = seed;
	return new Uint8Array(length).map(() => {
		state = (state * 1103515245 + 12345) & 0x7fffffff;
		return state / 0x7fffffff < density ? 255 : 0;
	});
}

const whiteCount = (plane: Uint8Array) => plane.filter((value) => value === 255).length;

describe('dilateSquare', () => {
	it.each([
		[37, 23, 0.01, 1],
		[37, 23, 0.02, 4],
		[64, 9, 0.05, 2],
		[5, 50, 0.03, 3],
		[60, 45, 0.004, 7],
		[1, 40, 0.05, 2],
		[40, 1, 0.1, 2],
		[50, 50, 0.3, 1],
	])(
		'equals the definition on a random %i×%i mask (density %f, radius %i)',
		(width, height, density, radius) => {
			const plane = randomPlane(width * height, density, width * 1000 + height);
			expect(whiteCount(plane)).toBeGreaterThan(0);
			const expected = bruteForce(plane, width, height, radius);
			const white = dilateSquare(plane, width, height, radius);
			expect(Buffer.from(plane).equals(Buffer.from(expected))).toBe(true);
			expect(white).toBe(whiteCount(expected));
		},
	);

	it('leaves the plane as it is with radius 0, counting its white pixels', () => {
		const plane = randomPlane(20 * 10, 0.2, 3);
		const before = Buffer.from(plane);
		expect(dilateSquare(plane, 20, 10, 0)).toBe(whiteCount(before));
		expect(Buffer.from(plane).equals(before)).toBe(true);
	});

	it('fills the whole plane from one pixel with a radius past its size', () => {
		const plane = new Uint8Array(30 * 20);
		plane[0] = 255;
		expect(dilateSquare(plane, 30, 20, 1_000_000)).toBe(30 * 20);
		expect(plane.every((value) => value === 255)).toBe(true);
	});

	it('leaves an all-black plane black', () => {
		const plane = new Uint8Array(16 * 16);
		expect(dilateSquare(plane, 16, 16, 5)).toBe(0);
		expect(plane.every((value) => value === 0)).toBe(true);
	});
});
