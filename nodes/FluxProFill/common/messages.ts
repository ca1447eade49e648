/**
 * The user-message catalogue: every message and description the node shows, in one place.
 * A leaf beside constants.ts. Input problems are thrown as InputProblem (the pipeline makes
 * them NodeOperationErrors); fal's answers are described as Words (made NodeApiErrors).
 */
import {
	CAPS,
	FAL_BILLING_URL,
	FAL_KEYS_URL,
	FAL_REQUESTS_URL,
	LABELS as L,
	LIMITS,
	DEFAULTS,
	RETURNED_MASK_FIELD,
	SEGMENT_PRICE_USD,
	PRICE_PER_MEGAPIXEL_USD,
	FINETUNED_PRICE_PER_MEGAPIXEL_USD,
	q,
} from './constants';

/** A problem with one item's input or the node's settings, found before anything is paid for. */
export class InputProblem extends Error {
	constructor(
		message: string,
		readonly description: string,
	) {
		super(message);
		this.name = 'InputProblem';
	}
}

export interface Words {
	message: string;
	description: string;
}

const problem = (message: string, description: string) => new InputProblem(message, description);
export const shorten = (text: string, max = 80): string =>
	text.length > max ? `${text.slice(0, max)}…` : text;
type Size = { width: number; height: number };
const size = ({ width, height }: Size) => `${width}×${height}`;
/** `"Label" is <what an expression gave>`: how a parameter problem starts. */
const is = (label: string, value: unknown) => `${q(label)} is ${shorten(String(value))}`;
const plural = (count: number, thing: string) => `${count} ${thing}${count === 1 ? '' : 's'}`;
/** fal's detail text after the message, when there is one. */
const colon = (detail: string) => (detail ? `: ${detail}` : '');
/** The request's ID at the end of a description, and after a stopped item's message. */
const idSentence = (requestId?: string) => (requestId ? ` Request ID ${requestId}.` : '');
const ofRequest = (requestId?: string) => (requestId ? ` (fal request ID ${requestId})` : '');
const CHARGED = 'fal would still charge for returning the same picture.';
const BINARY_SOURCE = `Read the image in an earlier node (for example "HTTP Request" with response format File) and set ${q(L.imageSource)} to ${q(L.sourceBinary)}.`;
const EDIT_IMAGE = '(for example with the "Edit Image" node)';
const FAL_SIZE_LIMITS = `${LIMITS.imageSide} pixels a side and ${LIMITS.imagePixels / 1_000_000} megapixels`;
const DAMAGED_FILE =
	'The file may be damaged or cut short. Open it in an image viewer to check, and save it again as PNG, JPEG or WebP.';
const REQUEST_HISTORY = `your fal dashboard's request history (${FAL_REQUESTS_URL})`;
const reportIfRepeated = (requestId: string) =>
	`Try again; if it keeps happening, report fal request ID ${requestId} to fal.`;
const reportIfPersists = (requestId: string) =>
	`Try again; if it persists, report fal request ID ${requestId} to fal.`;

/** Parameters: what an expression gave is not what the parameter takes. */
export const parameters = {
	wholeNumber: (label: string, value: unknown, { min, max }: { min: number; max: number }) =>
		problem(is(label, value), `Enter a whole number from ${min} to ${max}.`),
	enumValue: (label: string, value: unknown, allowed: readonly string[]) =>
		problem(
			`${is(label, value)}, which fal does not accept`,
			`Choose one of: ${allowed.join(', ')}.`,
		),
	boolean: (label: string, value: unknown) =>
		problem(
			`${is(label, value)}, not true or false`,
			`Switch ${q(label)} on or off, or make its expression give true or false.`,
		),
	emptyField: (label: string) =>
		problem(
			`${q(label)} is empty`,
			`Enter the name of a binary field in ${q(label)}, for example "data".`,
		),
	emptyUrl: (label: string) =>
		problem(
			`${q(label)} is empty`,
			`Enter a link that starts with https:// in ${q(label)}, or switch the source to ${q(L.sourceBinary)}.`,
		),
	invalidUrl: (label: string, text: string) =>
		problem(
			`${q(label)} is not a valid URL: ${shorten(text)}`,
			'Enter a full link that starts with https://.',
		),
	urlScheme: (label: string, scheme: string) =>
		problem(
			`${q(label)} uses ${scheme}://, which fal cannot download`,
			`fal downloads the picture itself, so it needs an http(s) link or a data:image URI. For a local file, read it with "Read/Write Files from Disk" and use the ${q(L.sourceBinary)} source.`,
		),
	webhookNotHttp: () =>
		problem(
			`${q(L.webhookUrl)} must be an http(s) link`,
			'Use a link fal can POST to, such as {{ $execution.resumeUrl }} of a Wait node.',
		),
	timeout: (value: unknown) =>
		problem(
			is(L.timeout, value),
			`Enter a number of seconds from ${LIMITS.timeoutSeconds.min} to ${LIMITS.timeoutSeconds.max} (a day). For longer fal queues use Submit and Get Result.`,
		),
	maskFieldTaken: () =>
		problem(
			`${q(L.outputBinaryProperty)} is "${RETURNED_MASK_FIELD}", the field ${q(L.returnMask)} puts the mask in`,
			`The mask would replace the generated image. Name the output field differently (e.g. "data"), or switch ${q(L.returnMask)} off.`,
		),
	emptyPrompt: () =>
		problem(
			'The prompt is empty',
			`Describe what to paint into the white part of the mask in ${q(L.prompt)}. If it comes from an expression, check that the expression gives text for this item.`,
		),
	emptyMaskPrompt: () =>
		problem(
			`${q(L.maskPrompt)} is empty`,
			'Describe what to repaint in a few words, such as "the sky" or "the shirt"; fal finds it in the image and makes the mask.',
		),
	seed: (value: unknown) =>
		problem(
			`The seed ${shorten(String(value))} is not a whole number from ${LIMITS.seed.min} to ${LIMITS.seed.max}`,
			`Enter a whole number in ${q(L.seed)}, or remove the option to let fal pick one.`,
		),
	numImages: (value: unknown) =>
		problem(
			`${is(L.numImages, value)}, but fal makes ${LIMITS.numImages.min} to ${LIMITS.numImages.max} images per request`,
			`Enter a whole number from ${LIMITS.numImages.min} to ${LIMITS.numImages.max} in ${q(L.numImages)}. For more variations, send more items.`,
		),
	unknownSource: (label: string, value: unknown) =>
		problem(
			`${q(label)} is "${String(value)}", which this node does not know`,
			`Choose ${q(L.sourceBinary)} or ${q(L.sourceUrl)} in ${q(label)}.`,
		),
	needsImageFile: (source: string) =>
		problem(
			`${q(L.maskSource)} ${q(source)} needs the image as a binary field`,
			`The mask is made from the image itself, so the node must have its file. ${BINARY_SOURCE}`,
		),
	toolNeedsUrl: (what: 'image' | 'mask', sourceLabel: string, urlLabel: string) =>
		problem(
			`As an AI agent's tool this node needs the ${what} as a URL`,
			`Set ${q(sourceLabel)} to ${q(L.sourceUrl)} and fill ${q(urlLabel)} with {{ $fromAI('${what}_url', 'public link to the ${what}') }}; agents cannot pass binary files.${what === 'mask' ? ` Or set it to ${q(L.sourceText)} and fill ${q(L.maskPrompt)} with {{ $fromAI('mask_prompt', 'what to repaint, e.g. the sky') }}.` : ''}`,
		),
	emptyRequestId: () =>
		problem(
			'The request ID is empty',
			`Put the ID that Submit returned in ${q(L.requestId)} (by default {{ $json.request_id }} of the item coming in).`,
		),
	badRequestId: (text: string) =>
		problem(
			`"${text.slice(0, 60)}" is not a fal request ID`,
			`fal request IDs look like 764cabcf-b745-4b3e-ae38-1200304cf45b. Check the expression in ${q(L.requestId)}.`,
		),
	unknownOperation: (name: string, known: string[]) =>
		problem(`The operation "${name}" is not supported`, `Choose one of: ${known.join(', ')}.`),
	finetuneStrength: (value: unknown) =>
		problem(
			`${is(L.finetuneStrength, value)}, but fal takes ${LIMITS.finetuneStrength.min} to ${LIMITS.finetuneStrength.max}`,
			`Enter a number from ${LIMITS.finetuneStrength.min} (no influence of the finetune) to ${LIMITS.finetuneStrength.max}; ${DEFAULTS.finetuneStrength} suits most finetunes.`,
		),
	maxCost: (value: unknown) =>
		problem(
			`${is(L.maxCostUsd, value)}, not an amount of US dollars`,
			`Enter an amount such as 5 or 12.50, or remove the option to run without a cap.`,
		),
	proxyUrlInvalid: () =>
		problem(
			`The credential's ${q(L.proxyUrl)} is not a valid URL`,
			`Enter the full address of your fal server proxy, such as https://example.com/api/fal/proxy, or leave ${q(L.proxyUrl)} empty to call fal directly.`,
		),
	proxyUrlWithLogin: () =>
		problem(
			`The credential's ${q(L.proxyUrl)} contains a user name and password, which the node cannot send`,
			`The node sends the fal key in the Authorization header, so a proxy cannot get other credentials from it. Remove "user:password@" from ${q(L.proxyUrl)} and protect the proxy another way (its own network, or the key check of fal's server proxy).`,
		),
	proxyUrlScheme: (scheme: string) =>
		problem(
			`The credential's ${q(L.proxyUrl)} uses ${scheme}://`,
			'A fal server proxy is reached over http(s).',
		),
};

/** Dollars with cents, and a third decimal for Describe It's half cents ($0.155). */
const usd = (amount: number) =>
	`$${amount.toFixed(Number.isInteger(Math.round(amount * 1000) / 10) ? 2 : 3)}`;
const CAP_FIX = `Raise ${q(L.maxCostUsd)}, or split the work: fewer items per execution (a schedule that takes fewer rows, Loop Over Items with a Wait between batches).`;

/** Max Cost per Run: what would be spent, against the cap, before anything is paid. */
export const cap = {
	/** The node stops before paying: the items together would cost more than the cap. */
	overRun: (estimate: number, items: number, capUsd: number, fitting: number, spent: number) =>
		problem(
			`The estimated fal cost of this run, ${usd(estimate)} for ${plural(items, 'item')}, is above ${q(L.maxCostUsd)} (${usd(capUsd)})`,
			`Nothing was sent to fal. ${fitting === 0 ? 'Not even the first item fits' : `The first ${plural(fitting, 'item')} would fit`}${spent > 0 ? ` (this node had already spent an estimated ${usd(spent)} in this execution)` : ''}. ${CAP_FIX} With "On Error → Continue", the items that fit run and the others become error items.`,
		),
	/** With continueOnFail: this item did not fit in what was left. */
	overItem: (estimate: number, total: number, capUsd: number) =>
		problem(
			`Not sent to fal: this item (an estimated ${usd(estimate)}) would take the execution's cost to ${usd(total)}, above ${q(L.maxCostUsd)} (${usd(capUsd)})`,
			`Items are sent in order while their estimated cost fits within the cap; this one and the ones after it that do not fit were not sent, so nothing was charged for them. ${CAP_FIX}`,
		),
	/** A linked image whose size the node cannot learn: its cost is unknown. */
	unknownSize: (reason: string) =>
		problem(
			`The cost of this item cannot be estimated before paying: ${reason}`,
			`${q(L.maxCostUsd)} needs every item's size before anything is sent, and fal bills by the image's megapixels. Give the image as a binary field (read it with "HTTP Request", response format File), or remove the cap.`,
		),
};

/** Pictures: the image and mask files as they are. */
export const pictures = {
	noField: (what: string, field: string, present: string[]) => {
		const label = what === 'image' ? L.imageBinaryProperty : L.maskBinaryProperty;
		const source = what === 'image' ? L.imageSource : L.maskSource;
		return problem(
			`The item has no binary field "${field}" for the ${what}`,
			present.length
				? `This item's binary fields are: ${present.map((name) => `"${name}"`).join(', ')}. Put the right one in ${q(label)}.`
				: `This item has no binary data at all. Add a node before this one that reads the ${what} (for example "Read/Write Files from Disk", or "HTTP Request" with response format File), or switch ${q(source)} to ${q(L.sourceUrl)}.`,
		);
	},
	unusable: (what: string, field: string, fileName: string | undefined, reason: string) =>
		problem(
			`The ${what} in binary field "${field}"${fileName ? ` (${fileName})` : ''} cannot be used: ${reason}`,
			`fal accepts whole PNG, JPEG and WebP images. Check that "${field}" holds the ${what} file and that the node before produced it completely.`,
		),
	tooLarge: (what: string, field: string, shown: { width: number; height: number }) =>
		problem(
			`The ${what} in binary field "${field}" is ${size(shown)} pixels, too large to send`,
			`Images may have at most ${FAL_SIZE_LIMITS}. Scale it down first ${EDIT_IMAGE}.`,
		),
	sizesDiffer: (found: Size, image: Size, alpha = false) =>
		problem(
			`${alpha ? 'The image with the transparency' : 'The mask'} is ${size(found)} pixels but the image is ${size(image)}`,
			`fal needs a mask of exactly the image's width and height. Turn on ${q(L.fitMask)} to stretch the mask to the image's size, or export the mask from the same canvas as the image.`,
		),
	noAlpha: (format: string) =>
		problem(
			format === 'JPEG'
				? 'The image has no alpha channel: it is a JPEG, and JPEG cannot store transparency'
				: `The image has no alpha channel: it is a ${format} without transparency`,
			`${q(L.maskSource)} ${q(L.sourceAlpha)} repaints the transparent part of a PNG or WebP image: erase the part to repaint in an image editor and save as PNG or WebP. Or set ${q(L.maskSource)} to ${q(L.sourceBinary)} with a black-and-white mask, or to ${q(L.sourceRectangles)}.`,
		),
	undecodable: (what: string, reason: string) =>
		problem(`The ${what} file cannot be decoded: ${reason}`, DAMAGED_FILE),
	sharpMissing: (platform: string, reason: string) =>
		problem(
			`Cannot prepare the mask: the image library "sharp" could not be loaded on this n8n server (${platform}): ${reason}`,
			'sharp ships prebuilt binaries for every platform n8n supports; on this server it is missing or broken (for example installed with --omit=optional, or copied from another platform). Ask the n8n administrator to reinstall the community node so npm fetches the binary for this platform: https://sharp.pixelplumbing.com/install',
		),
};

/** Masks: what the node makes of the mask source. */
export const masks = {
	noRectangles: () =>
		problem(
			'No rectangles to repaint were given',
			`Add at least one rectangle under ${q(L.maskRectangles)} (left, top, width and height, in pixels or percent of the image), or choose another ${q(L.maskSource)}.`,
		),
	rectangleUnit: (n: number, unit: unknown) =>
		problem(
			`Rectangle ${n} has unit "${String(unit)}"`,
			'The unit of a rectangle must be "px" (pixels) or "percent" (of the image\'s width and height).',
		),
	rectangleValue: (n: number, field: string, value: unknown, unit: string) =>
		problem(
			`Rectangle ${n} has no valid ${field}: ${JSON.stringify(value) ?? 'undefined'}`,
			`Give the ${field} of rectangle ${n} as a number of ${unit}.`,
		),
	rectanglePercent: (n: number, field: string, value: number) =>
		problem(
			`Rectangle ${n} has ${field} ${value}%, outside 0–100%`,
			`Percentages are of the image's ${field === 'left' || field === 'width' ? 'width' : 'height'}, so they go from 0 to 100. To give pixels, set the unit to "px".`,
		),
	rectangleEmpty: (n: number, what: string, unit: string) =>
		problem(
			`Rectangle ${n} has ${what}, so it covers nothing`,
			`Width and height of a rectangle must be more than 0 ${unit}.`,
		),
	rectangleOutside: (n: number, described: string, image: { width: number; height: number }) =>
		problem(
			`Rectangle ${n} (${described}) lies outside the ${size(image)} image`,
			"Left and top are measured from the image's top-left corner; a rectangle must overlap the image (parts outside it are cut off).",
		),
	/** The mask came out all black: worded for its source and options. */
	nothingToRepaint: (
		kind: 'file' | 'alpha' | 'rectangles',
		stats: { min: number; max: number },
		{ threshold, invert }: { threshold: number; invert: boolean },
	) => {
		const t = `${q(L.maskThreshold)} (${threshold})`;
		if (kind === 'rectangles')
			return problem(
				`The rectangles cover the whole image, and with ${q(L.invertMask)} on only the part outside them is repainted: nothing would be repainted`,
				`Turn off ${q(L.invertMask)} to repaint the rectangles, or make them smaller. ${CHARGED}`,
			);
		if (kind === 'alpha' && invert)
			return problem(
				`No pixel of the image is opaque enough to be repainted: with ${q(L.invertMask)} on, pixels with alpha at or above ${t} are repainted, and the highest alpha is ${stats.max}`,
				`Turn off ${q(L.invertMask)} to repaint the transparent part, or lower ${q(L.maskThreshold)} to ${stats.max} or less. ${CHARGED}`,
			);
		if (kind === 'alpha' && stats.min === 255)
			return problem(
				'The image has an alpha channel but is fully opaque, so nothing would be repainted',
				`With ${q(L.maskSource)} ${q(L.sourceAlpha)}, the transparent part of the image is repainted. Erase the part to repaint in an image editor and save as PNG or WebP, or set ${q(L.maskSource)} to ${q(L.sourceBinary)} or ${q(L.sourceRectangles)}. ${CHARGED}`,
			);
		if (kind === 'alpha')
			return problem(
				`No pixel of the image is transparent enough to be repainted: pixels with alpha below ${t} are repainted, and the lowest alpha is ${stats.min}`,
				`Raise ${q(L.maskThreshold)} above ${stats.min} to repaint the most transparent pixels, or erase the part to repaint completely. ${CHARGED}`,
			);
		if (invert)
			return problem(
				`The mask is all black after ${q(L.invertMask)}: every pixel of the mask file is white (at or above ${t}), so nothing would be repainted`,
				`Turn off ${q(L.invertMask)} if the mask marks the part to repaint in white, or raise ${q(L.maskThreshold)} above ${stats.min}. ${CHARGED}`,
			);
		if (stats.max === 0)
			return problem(
				'The mask is entirely black, so nothing would be repainted',
				`White marks the part to repaint, black the part to keep. Paint the part to repaint in white, or, if your mask marks it in black, turn on ${q(L.invertMask)}. ${CHARGED}`,
			);
		return problem(
			`The mask is all black after ${t}: its brightest pixel is ${stats.max}, so nothing would be repainted`,
			`White marks the part to repaint. Lower ${q(L.maskThreshold)} to ${stats.max} or less to count the grey part as white, or, if your mask marks the part to repaint in black, turn on ${q(L.invertMask)}. ${CHARGED}`,
		);
	},
	nothingFound: (words: string, negative?: string) =>
		problem(
			`fal found nothing in the image matching "${words}"${negative ? ` (except "${negative}")` : ''}: there is nothing to repaint`,
			`Describe it in other words in ${q(L.maskPrompt)} — name what it looks like or a larger part of the picture — or describe what to keep and turn on ${q(L.invertMask)}. The fill was not sent, so only the segmentation was charged.`,
		),
};

/** Expand Canvas: the new canvas, worked out before anything is sent. */
export const expand = {
	sideValue: (side: string, percent: boolean, value: unknown) =>
		problem(
			`No valid number of ${percent ? 'percent' : 'pixels'} to add at the ${side}: ${JSON.stringify(value) ?? 'undefined'}`,
			`Give each side under ${q(L.expandSides)} as a number, 0 for a side that should not grow.`,
		),
	sideNegative: (side: string, percent: boolean, value: number) =>
		problem(
			`Cannot add ${value}${percent ? '%' : ' pixels'} at the ${side}: the canvas only grows`,
			`Give 0 or more under ${q(L.expandSides)}. To cut the image, crop it first ${EDIT_IMAGE}.`,
		),
	sidePercent: (side: string, value: number, across: string) =>
		problem(
			`Cannot add ${value}% at the ${side}: at most ${LIMITS.expandPercent.max}% a side`,
			`Percentages are of the original's ${across}. Further out, the model has too little of the picture to go on; expand in several steps instead.`,
		),
	addsNothing: (described: string, image: { width: number; height: number }, percent: boolean) =>
		problem(
			`Expanding by ${described} would add nothing to the ${size(image)} image`,
			`Give at least one side under ${q(L.expandSides)} a value that adds a whole pixel or more${percent ? ` (percent of the ${size(image)} image's width or height)` : ''}.`,
		),
	badRatio: (text: string) =>
		problem(
			`${q(L.expandAspectRatio)} "${text}" is not an aspect ratio`,
			'Write it as width:height with positive numbers, for example "16:9" or "2.39:1", or as one number, width ÷ height (for example "1.5").',
		),
	alreadyRatio: (text: string, image: { width: number; height: number }) =>
		problem(
			`The image is already ${text} (${size(image)} pixels), so there is nothing to add`,
			`Choose another ${q(L.expandAspectRatio)}, or set ${q(L.expandBy)} to pixels or percent.`,
		),
	overlap: (value: unknown) =>
		problem(
			`${q(L.expandOverlap)} is ${JSON.stringify(value) ?? 'undefined'}, not a whole number from 0 to ${LIMITS.expandOverlap.max}`,
			`The overlap is how many pixels of the original, along each side that grows, are repainted so the new part blends in. ${DEFAULTS.expandOverlap} suits most pictures; 0 keeps the original untouched.`,
		),
	tooLarge: (image: { width: number; height: number }, canvas: { width: number; height: number }) =>
		problem(
			`Expanding the ${size(image)} image would make it ${size(canvas)} pixels (${Math.ceil((canvas.width * canvas.height) / 10_000) / 100} megapixels), more than the ${FAL_SIZE_LIMITS} fal accepts`,
			`Add less, or scale the image down first ${EDIT_IMAGE} and expand the smaller one.`,
		),
	failed: (reason: string) => problem(`The image cannot be expanded: ${reason}`, DAMAGED_FILE),
};

/** fal's answers and the way to fal. `detail` is fal's own text, already shortened. */
export const fal = {
	badKey: (detail: string) => ({
		message: 'fal did not accept the API key',
		description: `Check the fal credential: the key must be the full "key_id:key_secret" from ${FAL_KEYS_URL}, with no spaces. fal said: ${detail}`,
	}),
	proxyLogin: () => ({
		message: "Your network's proxy asked for a user name and password (HTTP 407)",
		description:
			'n8n reached the proxy set in its HTTPS_PROXY / HTTP_PROXY environment variables, but the proxy wants credentials. Put them into that variable (http://user:password@proxy.example.com:3128) and restart n8n.',
	}),
	locked: (detail: string) => ({
		message: 'Your fal account cannot run requests: it is out of credit or locked',
		description: `Top up or unlock the account at ${FAL_BILLING_URL}, then run the workflow again. fal said: ${detail}`,
	}),
	contentPolicy: (detail: string) => ({
		message: 'fal refused this request under its content policy',
		description: `The prompt or the image was flagged. Change the prompt or the picture; raising ${q(L.safetyTolerance)} only affects how strictly outputs are filtered. fal said: ${detail}`,
	}),
	rejected: (detail: string, hint: string, requestId?: string) => ({
		message: `fal rejected the request: ${detail}`,
		description: `${hint} Request ID ${requestId ?? 'unknown'}.`,
	}),
	noSuchRequest: (requestId: string, detail: string) => ({
		message: `fal has no request with ID ${requestId}`,
		description: `Check the request ID: it must be a fill's request_id (not a segmentation_request_id), a request can only be read with the key that submitted it, and fal keeps requests for a limited time. fal said: ${detail}`,
	}),
	notFound: (detail: string) => ({
		message: `fal answered "not found"${colon(detail)}`,
		description:
			'The endpoint does not exist for this key. If a proxy URL is set in the credential, check that it forwards to fal.',
	}),
	rateLimited: (detail: string) => ({
		message: `fal is rate-limiting this account${colon(detail)}`,
		description:
			"Too many requests at once for your fal account. Lower the node's concurrency, or retry later.",
	}),
	serverError: (status: number, type: string, detail: string, requestId?: string) => ({
		message: `fal had a server error (HTTP ${status})${type ? ` (${type})` : ''}${colon(detail)}`,
		description: `This is on fal's side and usually passes. Run the workflow again; if it keeps failing, check https://status.fal.ai.${idSentence(requestId)}`,
	}),
	otherStatus: (status: number, detail: string, requestId?: string) => ({
		message: `fal answered HTTP ${status}${colon(detail)}`,
		description: `See fal's message above.${idSentence(requestId)}`,
	}),
	untrustedCertificate: (text: string, code: string) => ({
		message: `Could not reach fal: the HTTPS certificate was not trusted (${text})`,
		description: `A proxy or firewall between n8n and fal most likely re-signs HTTPS traffic with your organisation's own certificate, which this n8n does not trust. Give n8n that root certificate: set NODE_EXTRA_CA_CERTS=/path/to/company-root-ca.pem in n8n's environment (on every main and worker process) and restart n8n. Do not switch certificate checks off. (${code})`,
	}),
	unreachable: (what: string, code: string, text: string) => ({
		message: `Could not reach fal: ${what}`,
		description: `Check that this n8n server can reach fal.ai over HTTPS, and if the credential has a proxy URL, that the proxy is running. If n8n goes out through a company proxy (HTTPS_PROXY / https_proxy in n8n's environment), check that it is running and lets n8n reach *.fal.run, *.fal.ai and *.fal.media, or list those in NO_PROXY if they can be reached directly. (${code}: ${text})`,
	}),
	/** The answer to a submit was lost and fal did not name the request: it is not sent again. */
	maybeAccepted: (what: string, cause: string) => ({
		message: `Sending the request to fal failed (${what}), and fal may have accepted it anyway`,
		description: `It was not sent again, so you are not charged twice. Check ${REQUEST_HISTORY}; run the item again if the request is not there. ${cause}.`,
	}),
	/** n8n's Retry On Fail after such a submit: the earlier one may have run, so this one is not sent. */
	earlierMaybeAccepted: () => ({
		message:
			'An earlier try of this item sent its request to fal without learning whether fal accepted it, so it was not sent again',
		description: `You are not charged twice. Look for the request in ${REQUEST_HISTORY} and fetch its images with the Get Result operation and its ID, or run the workflow again to submit anew.`,
	}),
	/** A submit whose answer was lost named a request that fal does not have: nothing was accepted. */
	notAccepted: (what: string, requestId: string) => ({
		message: `Sending the request to fal failed (${what}), and fal has no request with ID ${requestId}: it was not accepted`,
		description: 'Nothing ran at fal for this item. Run the item again.',
	}),
	noRequestId: () => ({
		message: "fal's answer to the request was not understood: it holds no valid request ID",
		description:
			"The request was not sent again, so you are not charged twice. If the credential has a Proxy URL, check that it forwards to fal (an answer from another server looks like this); otherwise check your fal dashboard's request history.",
	}),
	tooLarge: (what: string, cap: number) => ({
		message: `fal's answer to ${what} is larger than ${cap >= 1024 * 1024 ? `${cap / 1024 / 1024} MiB` : `${cap / 1024} KiB`}, which the node does not read`,
		description:
			'Answers of this kind are far smaller; this is not one the node asked for. If the credential has a Proxy URL or n8n goes through a company proxy, check what it sends back; otherwise try again later.',
	}),
	/** The generated images and their downloads. */
	noImages: (requestId: string) => ({
		message: 'fal finished the request but returned no images',
		description: reportIfRepeated(requestId),
	}),
	imageWithoutLink: (n: number, requestId: string) => ({
		message: `fal's answer lists image ${n} without a link`,
		description: reportIfRepeated(requestId),
	}),
	allNsfw: (count: number) => ({
		message: `fal flagged all ${plural(count, 'generated image')} as NSFW, and ${q(L.dropNsfw)} is on`,
		description: `Nothing was returned for this item. Change the prompt, or turn ${q(L.dropNsfw)} off to receive flagged images (they are marked with has_nsfw_concept).`,
	}),
	badImageLink: (url: string, requestId: string) => ({
		message: `fal returned an image link that is neither http(s) nor a data URI: ${url.slice(0, 60)}`,
		description: `This is unexpected from fal. ${reportIfPersists(requestId)}`,
	}),
	downloadFailed: (reason: string, requestId: string) => ({
		message: `Could not download the generated image from fal: ${reason}`,
		description: `fal made the image but the download failed twice. Run the item again, or open the image from fal request ID ${requestId} in your fal dashboard.`,
	}),
	damagedImage: (reason: string, requestId: string) => ({
		message: `The image from fal cannot be used: ${reason}`,
		description: `It was downloaded twice. fal made the image; open it from fal request ID ${requestId} in your fal dashboard, or run the item again.`,
	}),
	notJpegOrPng: (n: number, what: string, requestId: string) => ({
		message: `Image ${n} from fal is not a JPEG or PNG image (${what})`,
		description: reportIfPersists(requestId),
	}),
	imageTooLarge: (url: string) => ({
		message: `The generated image at ${url.slice(0, 80)} is larger than ${CAPS.imageBytes / 1024 / 1024} MiB`,
		description:
			'fal images are a few megabytes; this answer is not an image the node asked for. Try again, or report it to fal.',
	}),
	redirectScheme: (scheme: string) => ({
		message: `fal's image link redirects to a ${scheme}: address`,
		description: 'Only http(s) redirects are followed. Report the request to fal.',
	}),
	tooManyRedirects: () => ({
		message: `fal's image link redirects more than ${CAPS.redirects} times`,
		description:
			'The image was not downloaded. Try again; if it persists, report the request to fal.',
	}),
	noMaskImage: (requestId: string) => ({
		message: "fal's segmentation answer holds no mask image",
		description: reportIfPersists(requestId),
	}),
	/** Stopped items: a timeout, or a cancelled execution. `atFal` is one of AT_FAL. */
	/** `raisable`: the operation shows the Timeout option (Fill, Get Result). */
	timedOut: (seconds: number, requestId?: string, atFal = '', last = '', raisable = true) => ({
		message: `fal did not finish within ${seconds} s${ofRequest(requestId)}`,
		description: requestId
			? `${atFal}${last ? ` The last answer while waiting: ${last}.` : ''} ${raisable ? `Raise ${q(L.timeout)} in the node's options if fal is just busy.` : 'fal may just be busy: try again later.'}`
			: `fal did not answer in time. ${raisable ? `Raise ${q(L.timeout)} in the node's options, or try again later.` : 'Try again later.'}`,
	}),
	canceled: (requestId?: string, atFal = '') => ({
		message: `The execution was canceled${ofRequest(requestId)}`,
		description: requestId ? atFal : 'Nothing was sent to fal.',
	}),
	notFromFal: () =>
		'This happened in n8n before or after talking to fal. If it names an expression, check that expression for this item.',
};

/** What became of a stopped item's request at fal; only `confirmed` may say "cancelled". */
export const AT_FAL = {
	confirmed: 'The request was cancelled at fal.',
	alreadyCompleted:
		'fal had already finished the request; its images can still be fetched with the Get Result operation.',
	requested:
		'fal was already generating it, so the cancel only asked fal to stop: it may still finish (and be billed). Its images can then be fetched with the Get Result operation.',
	failed:
		'fal did not confirm the cancel, so the request may still be running (and be billed). Look it up by its ID in your fal dashboard, or stop it with the Cancel operation.',
	notSent:
		'The request goes on at fal; it was not cancelled. Look it up by its ID in your fal dashboard.',
} as const;
export type CancelOutcome = keyof typeof AT_FAL;

/** The execution was cancelled: what became of the requests at fal, truthfully. */
export function cancelSummary(unconfirmed: Array<string | undefined>, stopped: number): string {
	if (stopped === 0) return 'No fal request of this node was running.';
	if (unconfirmed.length === 0)
		return 'fal confirmed the cancel of the requests that were still running.';
	// undefined: a submit whose answer was lost before fal named the request.
	const named = unconfirmed.map((id) => id ?? 'unknown (the answer to its submit was lost)');
	return `fal did not confirm the cancel of request ${named.join(', ')}: it may still be running (and be billed). Look it up in your fal dashboard, or stop it with the Cancel operation.`;
}

/** The execution hint above the output: what the run is estimated to cost. */
export function costHint(
	total: number,
	requests: number,
	segmentations: number,
	finetuned = false,
): string {
	const described =
		segmentations > 0
			? `, including ${plural(segmentations, 'Describe It segmentation')} ($${SEGMENT_PRICE_USD} each, twice with words to keep)`
			: '';
	const price = `$${PRICE_PER_MEGAPIXEL_USD} per megapixel${finetuned ? `, $${FINETUNED_PRICE_PER_MEGAPIXEL_USD} with a finetune` : ''}`;
	return `Estimated fal cost of this run: ${usd(total)} for ${plural(requests, 'request')}${described} (${price}, rounded up, per image; fal's invoice is what counts)`;
}

/** The credential test's words. */
export const credentialTest = {
	ok: 'Connection tested successfully',
	noKey: 'Enter your fal API key: the whole key_id:key_secret',
	proxyUnreachable: (origin: string, what: string) =>
		`Could not reach the proxy at ${origin}: ${what}. Check that the proxy is running and reachable from n8n, or empty ${q(L.proxyUrl)} to call fal directly.`,
};
