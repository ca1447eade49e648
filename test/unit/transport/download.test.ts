import { CAPS, TIMING } from '../../../nodes/FluxProFill/common/constants';
import { fal as words } from '../../../nodes/FluxProFill/common/messages';
import { download } from '../../../nodes/FluxProFill/transport/download';
import type { FalError } from '../../../nodes/FluxProFill/transport/errors';
import { settled, useFakeClock } from '../kit';
import { fetchFailed, scripted } from './fakeFal';

useFakeClock();

const ID = '764cabcf-b745-4b3e-ae38-1200304cf45b';
const CDN = 'https://v3.fal.media/files/a/image.png';
const whole = () => undefined;
const running = () => new AbortController().signal;

const answer =
	(status: number, body: string | null = 'image bytes', headers: Record<string, string> = {}) =>
	() =>
		new Response(body, { status, headers: { 'content-type': 'image/png', ...headers } });
const redirect = (location: string) => answer(302, null, { location });

/** Downloads with `send` playing `steps`, letting the fake clock run meanwhile. */
async function fetchImage(
	url: string,
	steps: Array<() => unknown>,
	damage: (bytes: Buffer) => string | undefined = whole,
) {
	const send = scripted(...steps);
	const outcome = settled(
		download(url, send as unknown as typeof fetch, { signal: running(), requestId: ID, damage }),
	);
	await jest.advanceTimersByTimeAsync(10_000);
	return { outcome: await outcome, send };
}

describe('download', () => {
	it('gets an image from the CDN without the key, with its content type', async () => {
		const { outcome, send } = await fetchImage(CDN, [answer(200)]);
		expect(outcome).toEqual({ bytes: Buffer.from('image bytes'), contentType: 'image/png' });
		const [url, init] = send.calls[0] as [string, RequestInit];
		expect(url).toBe(CDN);
		expect(new Headers(init.headers).has('authorization')).toBe(false);
	});

	it('decodes a data URI (sync mode) without sending anything', async () => {
		const base64 = `data:image/png;base64,${Buffer.from('png!').toString('base64')}`;
		const { outcome, send } = await fetchImage(base64, []);
		expect(outcome).toEqual({ bytes: Buffer.from('png!'), contentType: 'image/png' });
		expect((await fetchImage('data:,plain%20text', [])).outcome).toMatchObject({
			bytes: Buffer.from('plain text'),
		});
		expect(send).not.toHaveBeenCalled();
	});

	it('refuses a link that is neither http(s) nor a data URI', async () => {
		const { outcome, send } = await fetchImage('file:///etc/passwd', [answer(200)]);
		expect((outcome as FalError).fields.words).toEqual(
			words.badImageLink('file:///etc/passwd', ID),
		);
		expect(send).not.toHaveBeenCalled();
	});

	it(`follows up to ${CAPS.redirects} redirects, relative ones too`, async () => {
		const { outcome, send } = await fetchImage(CDN, [
			redirect('https://cdn2.fal.media/x.png'),
			redirect('/y.png'),
			redirect('z.png'),
			answer(200),
		]);
		expect(outcome).toMatchObject({ bytes: Buffer.from('image bytes') });
		expect(send.calls.map(([url]) => url)).toEqual([
			CDN,
			'https://cdn2.fal.media/x.png',
			'https://cdn2.fal.media/y.png',
			'https://cdn2.fal.media/z.png',
		]);
	});

	it('refuses more redirects, and one to another scheme', async () => {
		const loop = await fetchImage(CDN, [redirect(CDN)]);
		expect((loop.outcome as FalError).fields.words).toEqual(words.tooManyRedirects());
		expect(loop.send).toHaveBeenCalledTimes(CAPS.redirects + 1);
		const file = await fetchImage(CDN, [redirect('file:///etc/passwd')]);
		expect((file.outcome as FalError).fields.words).toEqual(words.redirectScheme('file'));
	});

	it(`tries ${TIMING.downloadAttempts} times: a CDN error or a cut connection may pass`, async () => {
		const { outcome, send } = await fetchImage(CDN, [
			async () => await Promise.reject(fetchFailed('ECONNRESET')),
			answer(200),
		]);
		expect(outcome).toMatchObject({ bytes: Buffer.from('image bytes') });
		expect(send).toHaveBeenCalledTimes(2);
		const failing = await fetchImage(CDN, [answer(500)]);
		expect(failing.send).toHaveBeenCalledTimes(TIMING.downloadAttempts);
		expect((failing.outcome as FalError).fields.words?.message).toBe(
			words.downloadFailed('the CDN answered HTTP 500', ID).message,
		);
	});

	it('downloads a damaged image once more, and says it is damaged when it stays so', async () => {
		const damaged = (bytes: Buffer) => (bytes.toString() === 'cut' ? 'it is cut off' : undefined);
		const healed = await fetchImage(CDN, [answer(200, 'cut'), answer(200, 'whole')], damaged);
		expect(healed.outcome).toMatchObject({ bytes: Buffer.from('whole') });
		const broken = await fetchImage(CDN, [answer(200, 'cut')], damaged);
		expect(broken.send).toHaveBeenCalledTimes(TIMING.downloadAttempts);
		expect((broken.outcome as FalError).fields.words).toEqual(
			words.damagedImage('it is cut off', ID),
		);
		const dataUri = await fetchImage(`data:image/png;base64,${btoa('cut')}`, [], damaged);
		expect((dataUri.outcome as FalError).fields.words).toEqual(
			words.damagedImage('it is cut off', ID),
		);
	});

	it(`stops reading an image past ${CAPS.imageBytes / 1024 / 1024} MiB`, async () => {
		let sent = 0;
		const endless = () =>
			new Response(
				new ReadableStream<Uint8Array>({
					pull(controller) {
						sent += 1024 * 1024;
						controller.enqueue(new Uint8Array(1024 * 1024));
					},
				}),
			);
		const { outcome, send } = await fetchImage(CDN, [endless]);
		expect((outcome as FalError).fields.words).toEqual(words.imageTooLarge(CDN));
		expect(send).toHaveBeenCalledTimes(1);
		expect(sent).toBeLessThan(CAPS.imageBytes + 4 * 1024 * 1024);
	});

	it('stops when its signal fires, without trying again', async () => {
		const stop = new AbortController();
		const send = scripted(async () => {
			stop.abort();
			throw new DOMException('This operation was aborted', 'AbortError');
		});
		const outcome = settled(
			download(CDN, send as unknown as typeof fetch, {
				signal: stop.signal,
				requestId: ID,
				damage: whole,
			}),
		);
		await jest.advanceTimersByTimeAsync(10_000);
		expect((await outcome) as Error).toMatchObject({ name: 'AbortError' });
		expect(send).toHaveBeenCalledTimes(1);
	});
});
