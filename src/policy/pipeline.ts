/**
 * The per-request runner: walks the composed arrays section by section. A step that fails sends
 * the request to on-error with context.LastError set and Azure's default error answer in the
 * response; return-response and mock-response end the pipeline.
 */
import { HeaderMap } from '../core/headers.js';
import type { HostContext } from '../expr/host.js';
import type { ComposedPipeline } from './document.js';
import { PolicyFailure, type PolicyStep, type RequestState } from './runtime.js';

/** Runs steps in order; synchronous unless a step returns a promise. */
export function runSteps(steps: readonly PolicyStep[], st: RequestState, from = 0): void | Promise<void> {
  for (let i = from; i < steps.length; i++) {
    if (st.done) return;
    const step = steps[i]!;
    let r: void | Promise<void>;
    try {
      r = step.run(st);
    } catch (e) {
      throw attribute(e, step);
    }
    if (r !== undefined) return continueAfter(r, steps, st, i, step);
  }
}

async function continueAfter(p: Promise<void>, steps: readonly PolicyStep[], st: RequestState, i: number, step: PolicyStep): Promise<void> {
  try {
    await p;
  } catch (e) {
    throw attribute(e, step);
  }
  await runSteps(steps, st, i + 1);
}

/** Fills the LastError position of a failure from the innermost step that saw it. */
export function attribute(e: unknown, step: PolicyStep): PolicyFailure {
  const f =
    e instanceof PolicyFailure
      ? e
      : new PolicyFailure({ source: step.name, reason: 'InternalError', message: e instanceof Error ? e.message : String(e), logReason: 'policy_internal_error', cause: e });
  if (!f.attributed) {
    f.attributed = true;
    if (f.source === 'expression') f.source = step.name;
    f.scope = step.scope;
    f.section = step.section;
    f.path = step.path;
    f.policyId = step.id;
  }
  return f;
}

/** Outcome of a pipeline run, for the access log. */
export interface PipelineOutcome {
  /** The failure that sent the request to on-error, when there was one. */
  readonly failure: PolicyFailure | undefined;
  /** A failure inside on-error itself. */
  readonly onErrorFailure: PolicyFailure | undefined;
}

/**
 * Runs inbound, backend and outbound; on a failure (or when `initial` is given: a built-in step
 * failed before any policy ran), sets LastError and the default answer and runs on-error.
 */
export async function runPipeline(p: ComposedPipeline, st: RequestState, initial?: PolicyFailure): Promise<PipelineOutcome> {
  let failure = initial;
  if (!failure) {
    try {
      const a = runSteps(p.inbound, st);
      if (a) await a;
      if (!st.done) {
        const b = runSteps(p.backend, st);
        if (b) await b;
      }
      if (!st.done) {
        const c = runSteps(p.outbound, st);
        if (c) await c;
      }
      return answered(st, NO_FAILURE);
    } catch (e) {
      failure = e instanceof PolicyFailure ? e : new PolicyFailure({ source: 'pipeline', reason: 'InternalError', message: String(e), cause: e });
    }
  }
  setLastError(st.ctx, failure);
  setErrorResponse(st.ctx, failure.status, failure.statusReason, failure.bodyMessage);
  for (const [n, v] of failure.headers) st.ctx.response.headers.append(n, v);
  st.logReason = failure.logReason;
  st.done = false;
  try {
    const d = runSteps(p['on-error'], st);
    if (d) await d;
    return answered(st, { failure, onErrorFailure: undefined });
  } catch (e) {
    const f2 = e instanceof PolicyFailure ? e : new PolicyFailure({ source: 'on-error', reason: 'InternalError', message: String(e), cause: e });
    setErrorResponse(st.ctx, 500, 'Internal Server Error', 'Internal server error');
    return answered(st, { failure, onErrorFailure: f2 });
  }
}

const NO_FAILURE: PipelineOutcome = Object.freeze({ failure: undefined, onErrorFailure: undefined });

/** The answer is final: runs what waited for it (RequestState.afterAnswer). Such work never changes the answer. */
function answered(st: RequestState, out: PipelineOutcome): PipelineOutcome {
  const after = st.afterAnswer;
  if (after) {
    st.afterAnswer = undefined;
    for (const fn of after) {
      try {
        fn();
      } catch (e) {
        st.services.logger?.log({ level: 'warn', msg: 'policy work after the answer failed', error: e instanceof Error ? e.message : String(e) });
      }
    }
  }
  return out;
}

export function setLastError(ctx: HostContext, f: PolicyFailure): void {
  ctx.lastError = { source: f.source, reason: f.reason, message: f.message, scope: f.scope, section: f.section, path: f.path, policyId: f.policyId };
}

/** Azure's error answer: `{ "statusCode": N, "message": "…" }` as JSON. */
export function setErrorResponse(ctx: HostContext, status: number, reason: string, message: string): void {
  const r = ctx.response;
  r.statusCode = status;
  r.statusReason = reason;
  r.headers = new HeaderMap([['Content-Type', 'application/json']]);
  r.body = { bytes: Buffer.from(errorBody(status, message)) };
}

export function errorBody(status: number, message: string): string {
  return `{ "statusCode": ${status}, "message": ${JSON.stringify(message)} }`;
}
