// @ts-check
/**
 * Shared JSDoc types of the fal emulator. This module exports nothing at run time;
 * the other modules refer to these types with `import('./types').Name`.
 */
'use strict';

/**
 * @typedef {'initiate'|'upload'|'file'|'submit'|'status'|'stream'|'result'|'cancel'|'sync'|'other'} RequestKind
 * @typedef {'valid'|'invalid'|'locked'|'missing'} AuthOutcome
 * @typedef {'IN_QUEUE'|'IN_PROGRESS'|'COMPLETED'|'CANCELLED'} JobStatus
 * @typedef {'fal-ai/flux-pro/v1/fill'|'fal-ai/evf-sam'|'fal-ai/flux-pro/v1/fill-finetuned'} EndpointId the fal endpoints the emulator speaks
 */

/**
 * One request as the emulator saw it. Never holds the Authorization header.
 * @typedef {object} RecordedRequest
 * @property {string} method
 * @property {string} target the x-fal-target-url for proxied calls, else the path and query
 * @property {RequestKind} kind
 * @property {EndpointId} [endpoint] the endpoint a queue/sync call (submit, status, stream, result, cancel, sync) is for;
 *   unset for storage, CDN and unrouted calls
 * @property {string} [requestId]
 * @property {Record<string, string>} query
 * @property {Record<string, string | string[] | undefined>} headers lower-cased, minus authorization
 * @property {unknown} body parsed JSON, `{bytes, sha256}` for binary bodies, undefined when empty
 * @property {AuthOutcome} auth what the Authorization header amounted to (checked only on API calls)
 * @property {number} at Date.now() on arrival
 * @property {number} [status] HTTP status answered (unset if the socket was destroyed)
 */

/**
 * @typedef {object} LogLine
 * @property {string} message
 * @property {'INFO'|'DEBUG'|'WARN'|'ERROR'} level
 * @property {'USER'} source
 * @property {string} timestamp ISO 8601
 */

/**
 * An answer the emulator will send (result of a job, validation error, ...).
 * @typedef {object} Outcome
 * @property {number} status
 * @property {any} body
 */

/**
 * @typedef {object} Job
 * @property {string} id request_id
 * @property {EndpointId} endpoint
 * @property {'queue'|'sync'} mode
 * @property {any} input the JSON body as submitted (undefined if it was not JSON)
 * @property {JobStatus} status 'CANCELLED' is internal; the status API reports it as COMPLETED
 * @property {any} [result] output JSON of a successful run
 * @property {Outcome} [error] the error answer of a failed run (422 ...)
 * @property {boolean} cancelled
 * @property {number} submittedAt
 * @property {number} [startedAt]
 * @property {number} [completedAt]
 * @property {number} [cancelledAt]
 * @property {string} [webhookUrl]
 * @property {LogLine[]} logs
 * @property {{inference_time: number}} [metrics]
 * @property {string} [inputError] set when the body was not valid JSON
 */

/**
 * @typedef {object} Upload
 * @property {string} fileUrl
 * @property {string} contentType
 * @property {string} fileName
 * @property {number} bytes
 * @property {string} sha256
 */

/**
 * @typedef {object} WebhookDelivery
 * @property {string} url
 * @property {string} requestId
 * @property {EndpointId} endpoint the endpoint of the job that ended
 * @property {any} payload
 * @property {number} [status] HTTP status of the receiver
 * @property {string} [error] why delivery failed
 * @property {number} at
 */

/**
 * @typedef {'submit'|'status'|'stream'|'result'|'cancel'|'initiate'|'upload'|'file'|'sync'|'other'} FaultKind
 */

/**
 * @typedef {object} FaultRule
 * @property {FaultKind} kind
 * @property {EndpointId} [endpoint] only requests for this endpoint (queue/sync kinds; unset: any endpoint)
 * @property {number} [times] how many matching requests it applies to (default 1; Infinity allowed)
 * @property {number} [status] answer with this status (default 500 when `body` is given alone)
 * @property {object|string|Buffer} [body] answer body: objects go out as JSON, Buffers as they are
 * @property {Record<string, string>} [headers] extra response headers
 * @property {string} [contentType] overrides the Content-Type of the answer
 * @property {boolean} [reset] destroy the socket without answering
 * @property {number} [cutAfterBytes] with an answer: send its head and this many bytes of its body, then destroy the socket
 * @property {number} [dropAfterEvents] 'stream' only: send N events, then destroy the socket
 * @property {number} [delayMs] answer late (alone: the normal answer, late)
 * @property {boolean} [acceptThenFail] 'submit' only: create the job, then answer the fault
 * @property {number} [acceptThenDelayMs] 'submit' only: create the job, then answer normally this much later
 * @property {(req: RecordedRequest) => boolean} [match] restricts the rule to some requests
 * @property {number} [hits] how many requests it has been applied to (maintained by the emulator)
 */

/**
 * @typedef {object} EmulatorConfig
 * @property {number} latencyMs processing time of each job once it starts
 * @property {number} concurrency jobs allowed IN_PROGRESS at once, all endpoints together (the account's limit); the rest wait IN_QUEUE
 * @property {number} fetchTimeoutMs timeout for fetching image_url / mask_url from other hosts
 * @property {number} maxImagePixels larger inputs answer 422 image_too_large (both endpoints)
 */

module.exports = {};
