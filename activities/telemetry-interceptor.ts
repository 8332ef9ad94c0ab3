import { ApplicationFailure, type Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, ActivityInterceptorsFactory, Next } from '@temporalio/worker';
import type { Telemetry } from '../adapters/telemetry/port.js';

/** What failed, as a bounded label: the named failure type (core/contracts/failures.ts) or the error's class name. */
export function failureType(err: unknown): string {
  if (err instanceof ApplicationFailure) return err.type ?? 'ApplicationFailure';
  if (err instanceof Error) return err.name || 'Error';
  return typeof err;
}

class FailureCountingInterceptor implements ActivityInboundCallsInterceptor {
  constructor(
    private readonly ctx: Context,
    private readonly telemetry: Telemetry,
  ) {}

  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      this.telemetry.activityFailed(this.ctx.info.activityType, failureType(err));
      throw err;
    }
  }
}

/** Every failed activity attempt of this worker counted by activity type and failure type; the failure itself passes on unchanged. */
export function activityFailureInterceptor(telemetry: Telemetry): ActivityInterceptorsFactory {
  return (ctx) => ({ inbound: new FailureCountingInterceptor(ctx, telemetry) });
}
