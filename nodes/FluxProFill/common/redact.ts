const MASK = '***';

/**
 * Removes the API key, and its secret half on its own, from a text. fal does not echo
 * keys, but proxies, fetch errors and misconfigured URLs can; this is the last line.
 */
export function redactSecrets(text: string, secrets: string[]): string {
	let result = text;
	for (const secret of secrets) {
		if (secret.length >= 4) result = result.split(secret).join(MASK);
	}
	return result;
}

/** The strings to hide for a fal key "key_id:key_secret": the whole key and the secret. */
export function secretsOfKey(apiKey: string): string[] {
	const secrets = [apiKey];
	const colon = apiKey.indexOf(':');
	if (colon >= 0) secrets.push(apiKey.slice(colon + 1));
	return secrets.filter((secret) => secret.length > 0);
}

/** `value` with every string in it (keys too) passed through `redactSecrets`. */
export function redactJson<T>(value: T, secrets: string[]): T {
	if (typeof value === 'string') return redactSecrets(value, secrets) as T;
	if (Array.isArray(value)) return value.map((entry: unknown) => redactJson(entry, secrets)) as T;
	// Plain objects only (fal's parsed JSON, possibly from another realm); never Buffers or dates.
	if (
		value &&
		typeof value === 'object' &&
		Object.prototype.toString.call(value) === '[object Object]'
	) {
		return Object.fromEntries(
			Object.entries(value).map(([key, entry]) => [
				redactSecrets(key, secrets),
				redactJson(entry, secrets),
			]),
		) as T;
	}
	return value;
}
