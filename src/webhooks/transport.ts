/**
 * The narrow interface of the webhook sender: the core signs and queues; an edge
 * (`src/webhooks-http/`) carries the request. The core knows no HTTP client.
 */

export interface WebhookRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** What came back: the status of an answer, or no answer at all (`error`: a short reason). */
export type WebhookResponse = { status: number } | { status: null; error: string };

export interface WebhookTransport {
  /** Sends one POST; never rejects (a failure is a response without a status). */
  send(request: WebhookRequest): Promise<WebhookResponse>;
}
