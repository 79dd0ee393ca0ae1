/**
 * The connector test kit, `atlas-engine/sdk/testing`: what Atlas's own connector tests use. A
 * fake provider is a real HTTP server on 127.0.0.1 that records requests and answers through a
 * route (or scripted replies); `runAction` runs an action as a step would against it, with
 * retries, audit and rate limits; `makeTestContext` gives one real ActionContext.
 */

export {
  type LogLine,
  localOnlyFetch,
  makeTestContext,
  memoryLogger,
  type TestContext,
  type TestContextOptions,
} from './context.ts';
export {
  type FakeReply,
  type FakeServer,
  hostile,
  json,
  type RecordedRequest,
  type Route,
  startFake,
  startFakeProvider,
} from './fake-server.ts';
export { type ActionRun, type AttemptRecord, type RunActionOptions, runAction } from './harness.ts';
