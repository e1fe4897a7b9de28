/**
 * ACR's webhook event JSON, built from outbox events:
 *
 *   {"id","timestamp","action",
 *    "target":{"mediaType","size","digest","length","repository","tag"},
 *    "request":{"id","host","method","useragent"}}
 *
 * A push sends one event per tag it applied (or one without a tag when pushed by digest); a
 * manifest delete sends one `delete` event whose target has no tag or size, as ACR's does. A tag
 * deleted alone sends none (ACR fires no webhook for it). A push held in quarantine sends
 * `quarantine` events shaped as the push's. Event ids are stable: the outbox
 * event's id, or, for a push of several tags, an id derived from it and the tag, so a receiver
 * can recognise a redelivery.
 */
import { createHash } from 'node:crypto';
import type { StoredEvent } from '../meta/event-store.ts';
import type { WebhookAction } from '../meta/webhook-store.ts';

export interface AcrEventTarget {
  mediaType?: string;
  size?: number;
  digest: string;
  length?: number;
  repository: string;
  tag?: string;
}

export interface AcrEvent {
  id: string;
  timestamp: string;
  action: WebhookAction | 'ping';
  target?: AcrEventTarget;
  request?: { id: string; host: string; method: string; useragent: string };
}

/** One event as one webhook would receive it. */
export interface WebhookMessage {
  eventId: string;
  action: WebhookAction;
  /** For scope matching. */
  repository: string;
  tag: string | undefined;
  body: AcrEvent;
}

/** A uuid-shaped id derived from an event id and a tag. */
function derivedId(eventId: string, tag: string): string {
  const hex = createHash('sha256').update(`${eventId}\n${tag}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

function requestOf(event: StoredEvent): AcrEvent['request'] | undefined {
  const origin = event.origin;
  if (!origin) return undefined;
  return { id: origin.requestId, host: origin.host, method: origin.method, useragent: origin.userAgent };
}

export function webhookMessagesOf(event: StoredEvent): WebhookMessage[] {
  const request = requestOf(event);
  const message = (action: WebhookAction, eventId: string, target: AcrEventTarget): WebhookMessage => ({
    eventId,
    action,
    repository: event.repository,
    tag: target.tag,
    body: { id: eventId, timestamp: event.createdAt, action, target, ...(request && { request }) },
  });

  switch (event.action) {
    case 'push':
    case 'quarantine': {
      const action = event.action;
      const target = (tag?: string): AcrEventTarget => ({
        ...(event.mediaType !== null && { mediaType: event.mediaType }),
        ...(event.size !== null && { size: event.size }),
        digest: event.digest,
        ...(event.size !== null && { length: event.size }),
        repository: event.repository,
        ...(tag !== undefined && { tag }),
      });
      if (event.tags.length === 0) return [message(action, event.id, target())];
      if (event.tags.length === 1) return [message(action, event.id, target(event.tags[0]))];
      return event.tags.map((tag) => message(action, derivedId(event.id, tag), target(tag)));
    }
    case 'delete':
      return [
        message('delete', event.id, {
          ...(event.mediaType !== null && { mediaType: event.mediaType }),
          digest: event.digest,
          repository: event.repository,
        }),
      ];
    case 'untag':
      return [];
  }
}

/** The body of a ping: an event with no target. */
export function pingEvent(id: string, timestamp: string): AcrEvent {
  return { id, timestamp, action: 'ping' };
}
