// The notifiers' HTTP calls: adapters/http/request-json.ts (shared with the chat tools'
// ServiceNow and PagerDuty clients), with every failure a NotifierError.

import {
  requestJson as request,
  normalizeBaseUrl as normalize,
  type FailureFactory,
  type JsonRequest,
  type JsonResponse,
} from '../http/request-json.js';
import { NotifierError } from './port.js';

export interface NotifierRequest extends Omit<JsonRequest, 'service' | 'fail'> {
  /** Notifier name, for messages: 'servicenow', 'pagerduty'. */
  notifier: string;
}

export function requestJson({ notifier, ...rest }: NotifierRequest): Promise<JsonResponse> {
  return request({ ...rest, service: notifier, fail: notifierFailure(notifier) });
}

/** Base URL without trailing slashes; a bad one is a NotifierError (retryable: false). */
export function normalizeBaseUrl(value: string, what: string, notifier: string): string {
  return normalize(value, what, notifier, notifierFailure(notifier));
}

function notifierFailure(notifier: string): FailureFactory {
  return (message, { retryable, status, retryAfterMs }) => new NotifierError(message, { notifier, retryable, status, retryAfterMs });
}
