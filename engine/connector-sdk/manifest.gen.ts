// Generated from schemas/*.schema.json by `npm run gen:types`. Do not edit by hand.
/* biome-ignore-all lint: generated file */

/** The manifest language version. Always `atlas/v1` for this schema. */
export type ApiVersion = 'atlas/v1';

/** A short human-readable name, shown in the API and logs. */
export type DisplayName = string;

/** What this manifest is for, in a sentence or two. */
export type Description = string;

/** A stable lower-case identifier: letters, digits and dashes, starting with a letter. */
export type Slug = string;

/** A workflow id: `WF-` and three or four digits. Stable: runs and schedules refer to it. WF-001 to WF-099 are the shipped catalogue; WF-100 and up are left to your own workflows. */
export type WorkflowId = string;

/** A step id, unique within its workflow; templates read its output as `steps.<id>.output`. */
export type StepId = string;

/** A connector action: the connector id, a dot, then the action id (which may itself be dotted, e.g. `msgraph.outlook.sendMail`). */
export type ActionRef = string;

/** The name of a tenant secret in the encrypted store (never the secret itself). */
export type SecretName = string;

/** The name of an environment variable of the Atlas process. */
export type EnvName = string;

/** A duration: one or more groups of an integer and a unit (`ms`, `s`, `m`, `h`, `d`), e.g. `500ms`, `30s`, `5m`, `1h30m`. */
export type Duration = string;

/** A JSON Logic rule (jsonlogic.com). `var` reads the run scope: `trigger`, `input`, `steps.<id>.output`, `tenant`. Besides the standard operators: `now`, `date_add`, `date_format`, `lower`, `upper`, `join`, `split`, `slice`, `length`, `sum`, `default`. */
export type JsonLogicRule = Record<string, unknown> | boolean;

/** Exponential backoff between attempts: `initial * factor^(attempt-1)`, capped at `max`, then randomised by `jitter`. */
export interface Backoff {
  /** Delay before the second attempt. Default: `"1s"`. */
  initial?: Duration;
  /** Multiplier applied to the delay after each attempt (1 = constant delay). Default: `2`. */
  factor?: number;
  /** Longest delay between two attempts. Default: `"5m"`. */
  max?: Duration;
  /** Fraction of each delay that is randomised (0 = none, 1 = full jitter), so retries of many runs do not arrive together. Default: `0.2`. */
  jitter?: number;
}

/** How often and how patiently a failed step is retried. Only retryable errors (network, timeout, 429, 5xx) are retried; a provider's `Retry-After` wins over the backoff when longer. */
export interface RetryPolicy {
  /** Most attempts in total, the first included (1 = never retry). Default: `3`. */
  maxAttempts?: number;
  /** Exponential backoff between attempts: `initial * factor^(attempt-1)`, capped at `max`, then randomised by `jitter`. */
  backoff?: Backoff;
}

/** An Atlas workflow: a trigger and a list of steps, each calling one connector action. */
export interface Workflow {
  /** The manifest language version. Always `atlas/v1` for this schema. */
  apiVersion: ApiVersion;
  /** The manifest kind. Default: `"Workflow"`. */
  kind: 'Workflow';
  /** A workflow id: `WF-` and three or four digits. Stable: runs and schedules refer to it. WF-001 to WF-099 are the shipped catalogue; WF-100 and up are left to your own workflows. */
  id: WorkflowId;
  /** A short human-readable name, shown in the API and logs. */
  name?: DisplayName;
  /** What this manifest is for, in a sentence or two. */
  description?: Description;
  /** What starts a run. `type` selects the kind of trigger. */
  trigger: Trigger;
  /** A JSON Schema (draft 2020-12) for the run input; templates read it as `input.<field>`. Default: `{"type":"object"}`. */
  input?: Record<string, unknown>;
  /** A JSON Schema (draft 2020-12) for this workflow's tenant config: `PUT /v1/workflows/:id/enabled` (and `atlas workflows enable --config`) check the values against it, and templates read them as `tenant.config.<field>`. Without it, `tenant.config` is free-form. */
  config?: Record<string, unknown>;
  /** `default`: on for every active tenant that has not turned it off (`PUT /v1/workflows/:id/enabled` with `false`); a tenant that lacks the secrets, integrations or config it needs is skipped with the reason. `opt-in`: only for tenants that enabled it. Default: `"opt-in"`. */
  enabled?: 'default' | 'opt-in';
  /** The id of the Agent manifest this workflow is assigned to (for `agent.*` steps and escalation). */
  agent?: Slug;
  /** Policies applied to every step that does not set its own. */
  defaults?: StepDefaults;
  /** Limits how many runs with the same key are active at once; later runs wait their turn. */
  concurrency?: Concurrency;
  /** The run's output, rendered once every step is done: templates and `{ $expr }` values over `trigger`, `input`, `steps.<id>.output` and `tenant` (never `secrets`). `GET /v1/runs/:id` and `atlas run --wait` show it. */
  output?: unknown;
  /** The steps, in order. A step without `needs` runs after the one before it; a step with `needs` runs as soon as those are done. */
  steps: Step[];
}

/** What starts a run. `type` selects the kind of trigger. */
export type Trigger = ScheduleTrigger | WebhookTrigger | ManualTrigger | EventTrigger;

/** Starts a run on a cron schedule, evaluated in UTC with minute granularity. */
export interface ScheduleTrigger {
  /** Trigger kind. */
  type: 'schedule';
  /** Deliveries of a WebhookRoute that signal this workflow's waiting runs (`core.waitForSignal`) instead of starting runs: templates over the event find the run, the signal name and its sender. */
  signal?: SignalMapping;
  /** Five cron fields (minute hour day-of-month month day-of-week), in UTC. */
  cron: string;
  /** The run input of every scheduled run. Default: `{}`. */
  input?: Record<string, unknown>;
}

/** Starts a run for each verified event received on a WebhookRoute. */
export interface WebhookTrigger {
  /** Trigger kind. */
  type: 'webhook';
  /** Deliveries of a WebhookRoute that signal this workflow's waiting runs (`core.waitForSignal`) instead of starting runs: templates over the event find the run, the signal name and its sender. */
  signal?: SignalMapping;
  /** The id of the WebhookRoute manifest. */
  route: Slug;
  /** Event types that start a run (exact, or a prefix ending in `*`); all events when absent. */
  events?: string[];
  /** A JSON Logic filter on the event; the run starts only when it is truthy. */
  if?: JsonLogicRule;
}

/** Starts a run only when asked, through the API or `atlas run`. */
export interface ManualTrigger {
  /** Trigger kind. */
  type: 'manual';
  /** Deliveries of a WebhookRoute that signal this workflow's waiting runs (`core.waitForSignal`) instead of starting runs: templates over the event find the run, the signal name and its sender. */
  signal?: SignalMapping;
}

/** Starts a run when a run of another workflow finishes. */
export interface EventTrigger {
  /** Trigger kind. */
  type: 'event';
  /** Deliveries of a WebhookRoute that signal this workflow's waiting runs (`core.waitForSignal`) instead of starting runs: templates over the event find the run, the signal name and its sender. */
  signal?: SignalMapping;
  /** The workflow whose runs are watched. */
  workflow: WorkflowId;
  /** The final run statuses that start a run. Default: `["succeeded"]`. */
  status?: Array<'succeeded' | 'failed' | 'cancelled'>;
  /** A JSON Logic filter on the finished run; the run starts only when it is truthy. */
  if?: JsonLogicRule;
}

/** Deliveries of a WebhookRoute that signal this workflow's waiting runs (`core.waitForSignal`) instead of starting runs: templates over the event find the run, the signal name and its sender. */
export interface SignalMapping {
  /** The id of the WebhookRoute whose deliveries may signal. */
  route: Slug;
  /** Event types that may signal (exact, or a prefix ending in `*`); all when absent. */
  events?: string[];
  /** A JSON Logic filter on the event (`trigger`, `tenant`); only a truthy one signals. */
  if?: JsonLogicRule;
  /** The id of the run to signal, from the event: a template or `$expr` over `trigger`. Only a run of this workflow, for the route's tenant, is signalled. */
  run: unknown;
  /** The signal name (a literal identifier, or a template over `trigger`). */
  name: unknown;
  /** Who sent it, from the event (a template over `trigger`): recorded with the signal and checked against `approvers`. */
  sender: unknown;
  /** When set, only these senders may signal: a template over `tenant` (the workflow's config) that gives a list, compared as text. */
  approvers?: unknown;
  /** The signal's payload (the waiting step's output): templates over `trigger`; the event body when absent. */
  payload?: unknown;
}

/** Policies applied to every step that does not set its own. */
export interface StepDefaults {
  /** How often and how patiently a failed step is retried. Only retryable errors (network, timeout, 429, 5xx) are retried; a provider's `Retry-After` wins over the backoff when longer. */
  retry?: RetryPolicy;
  /** Longest time one attempt of a step may take. Default: `"30s"`. */
  timeout?: Duration;
}

/** Limits how many runs with the same key are active at once; later runs wait their turn. */
export interface Concurrency {
  /** A template over `trigger`, `input` and `tenant` naming the group; one group per tenant when absent. Default: `"{{ tenant.id }}"`. */
  key?: string;
  /** Most active runs per key. Default: `1`. */
  limit: number;
}

/** One call of a connector action. */
export interface Step {
  /** A step id, unique within its workflow; templates read its output as `steps.<id>.output`. */
  id: StepId;
  /** A short human-readable name, shown in the API and logs. */
  name?: DisplayName;
  /** A connector action: the connector id, a dot, then the action id (which may itself be dotted, e.g. `msgraph.outlook.sendMail`). */
  uses: ActionRef;
  /** The action input. Strings may hold `{{ path }}` templates into `trigger`, `input`, `steps.<id>.output`, `tenant` and `secrets`; a string that is exactly one template keeps the value's type. `{ $expr: <JSON Logic> }` computes a value (with `now`, `date_add`, `date_format`, `lower`, `upper`, `join`, `split`, `slice`, `length`, `sum`, `default`). Default: `{}`. */
  with?: Record<string, unknown>;
  /** A JSON Logic condition; the step is skipped when it is falsy. */
  if?: JsonLogicRule;
  /** Earlier steps this step waits for. Without it the step waits for the step before it. */
  needs?: StepId[];
  /** Runs the step once per item of a list: a template that reads a list (`{{ steps.list.output.items }}`) or a literal list. Each item is its own checkpointed attempt chain (`<step>[i]`, with the step's retries); the step's output is the list of item outputs, in order. */
  forEach?: string | unknown[];
  /** With `forEach`: the item's name in this step's templates (`{{ invoice.id }}`); `{{ loop.index }}` is its position, from 0. Default: `"item"`. */
  as?: string;
  /** With `forEach`: how many items are in flight at once. Default: `1`. */
  concurrency?: number;
  /** With `forEach`: what an item that failed (after its last attempt) does: `fail` fails the step once the items in flight end; `continue` puts `{ error }` in its place and goes on. Default: `"fail"`. */
  onItemError?: 'fail' | 'continue';
  /** With `forEach`: the longest list accepted; a longer one fails the step before any item runs. Default: `1000`. */
  maxItems?: number;
  /** How often and how patiently a failed step is retried. Only retryable errors (network, timeout, 429, 5xx) are retried; a provider's `Retry-After` wins over the backoff when longer. */
  retry?: RetryPolicy;
  /** Longest time one attempt may take; the workflow's `defaults.timeout` when absent. */
  timeout?: Duration;
  /** With `core.waitForSignal`: when no signal comes before its `timeout`, the step succeeds with this `output` (templates over the run) instead of failing with kind `timeout`. */
  onTimeout?: {
    /** The step's output on timeout. */
    output: unknown;
  };
  /** What a failure (after the last attempt) does to the run: `fail` stops it, `continue` records the failure and goes on. Default: `"fail"`. */
  onError?: 'fail' | 'continue';
}

/** An inbound webhook endpoint: how its requests are verified, de-duplicated, routed and assigned to a tenant. Verified events start the workflows whose webhook trigger names this route. */
export interface WebhookRoute {
  /** The manifest language version. Always `atlas/v1` for this schema. */
  apiVersion: ApiVersion;
  /** The manifest kind. Default: `"WebhookRoute"`. */
  kind: 'WebhookRoute';
  /** The route id; webhook triggers refer to it. */
  id: Slug;
  /** A short human-readable name, shown in the API and logs. */
  name?: DisplayName;
  /** What this manifest is for, in a sentence or two. */
  description?: Description;
  /** The HTTP path, under `/v1/`. */
  path: string;
  /** The HTTP method the provider uses. Default: `"POST"`. */
  method?: 'POST' | 'PUT';
  /** How the request is authenticated, before its body is parsed. */
  verify: WebhookVerify;
  /** Where the event id (for de-duplication) and the event type (for routing to triggers) are found. */
  event: WebhookEvent;
  /** How the tenant of a request is resolved. The resolved tenant's secret verifies the request, so an unknown tenant is rejected. */
  tenant: WebhookTenant;
  /** How long an event id is remembered to drop redelivered duplicates. Default: `"3d"`. */
  dedupWindow?: Duration;
  /** The answer sent once the event is accepted (the work itself runs later). */
  response?: WebhookResponse;
}

/** Where a value is found in the request: `body.<dotted path>`, `headers.<name>` or `query.<name>`. */
export type Locator = string;

/** How the request is authenticated, before its body is parsed. */
export interface WebhookVerify {
  /** `stripe-signature` (Stripe-Signature header), `telegram-secret-token` (X-Telegram-Bot-Api-Secret-Token), `teams-hmac` (Authorization: HMAC), `standard-webhooks` (webhook-id/-timestamp/-signature) or `hmac-sha256` (a hex or base64 HMAC of the raw body in `header`). */
  method: 'stripe-signature' | 'telegram-secret-token' | 'teams-hmac' | 'standard-webhooks' | 'hmac-sha256';
  /** The name of the tenant secret holding the signing secret or token. */
  secret: SecretName;
  /** Largest accepted clock difference for timestamped schemes (`stripe-signature`, `standard-webhooks`). Default: `"5m"`. */
  tolerance?: Duration;
  /** For `hmac-sha256`: the header holding the signature. */
  header?: string;
  /** For `hmac-sha256`: how the signature is encoded. Default: `"hex"`. */
  encoding?: 'hex' | 'base64';
  /** For `hmac-sha256`: a prefix before the signature in the header, removed before comparing. Default: `""`. */
  prefix?: string;
}

/** Where the event id (for de-duplication) and the event type (for routing to triggers) are found. */
export interface WebhookEvent {
  /** The provider's unique event id; a redelivery with the same id is acknowledged and dropped. */
  id: Locator;
  /** The event type matched against webhook triggers' `events`; every event has the type `message` when absent. */
  type?: Locator;
}

/** How the tenant of a request is resolved. The resolved tenant's secret verifies the request, so an unknown tenant is rejected. */
export interface WebhookTenant {
  /** Where the tenant id is read from the request. */
  from?: Locator;
  /** The tenant id used when `from` is absent or finds nothing (for single-tenant installs). */
  fallback?: string;
}

/** The answer sent once the event is accepted (the work itself runs later). */
export interface WebhookResponse {
  /** HTTP status of the answer. Default: `200`. */
  status?: number;
  /** JSON body of the answer. Default: `{"received":true}`. */
  body?: unknown;
}

/** An OAuth 2.0 provider a tenant connects an integration to, with the quirks of real providers spelled out. */
export interface OAuthProvider {
  /** The manifest language version. Always `atlas/v1` for this schema. */
  apiVersion: ApiVersion;
  /** The manifest kind. Default: `"OAuthProvider"`. */
  kind: 'OAuthProvider';
  /** The provider id; connectors with `auth: oauth` name it. */
  id: Slug;
  /** A short human-readable name, shown in the API and logs. */
  name?: DisplayName;
  /** What this manifest is for, in a sentence or two. */
  description?: Description;
  /** The authorization endpoint (required for the `authorization_code` grant). */
  authorizationUrl?: string;
  /** The token endpoint. */
  tokenUrl: string;
  /** The token revocation endpoint (RFC 7009), called when an integration is disconnected. */
  revocationUrl?: string;
  /** Scopes requested on every authorization. Default: `[]`. */
  scopes?: string[];
  /** The hosts this provider's API answers on: `http.request` with `auth: { integration: <id> }` sends the tenant's token only to these (`host` or `host:port`; `*.example.com` for its subdomains), over https. Default: `[]`. */
  apiHosts?: string[];
  /** How scopes are joined in the `scope` parameter. Default: `" "`. */
  scopeSeparator?: string;
  /** PKCE code challenge method: `S256`, or `none` for providers that reject it. Default: `"S256"`. */
  pkce?: 'S256' | 'none';
  /** Extra query parameters on the authorization URL. Default: `{}`. */
  authorizationParams?: Record<string, string>;
  /** Extra form parameters on every token request. Default: `{}`. */
  tokenParams?: Record<string, string>;
  /** The parameter name that carries the client id (TikTok says `client_key`). Default: `"client_id"`. */
  clientIdParam?: string;
  /** How the client authenticates at the token endpoint: HTTP `basic`, or `post` (credentials in the form). X requires `basic`. Default: `"post"`. */
  tokenAuthMethod?: 'basic' | 'post';
  /** The grant used to obtain tokens. Default: `"authorization_code"`. */
  grant?: 'authorization_code' | 'client_credentials';
  /** How an expiring token is renewed: `refresh_token`, `exchange` (trade the current token for a long-lived one, as Meta does) or `none` (request a new one, or reconnect). Default: `"refresh_token"`. */
  refresh?: 'refresh_token' | 'exchange' | 'none';
  /** For `refresh: exchange`: the form parameters of the exchange request; the current token is sent as `fb_exchange_token` unless a parameter says otherwise. Default: `{}`. */
  exchangeParams?: Record<string, string>;
  /** The environment variable holding the client id. */
  clientIdEnv: EnvName;
  /** The environment variable holding the client secret (absent for public clients). */
  clientSecretEnv?: EnvName;
}

/** An AI agent: a model behind an OpenAI-compatible API, its instructions, and the connector actions it may call as tools. */
export interface Agent {
  /** The manifest language version. Always `atlas/v1` for this schema. */
  apiVersion: ApiVersion;
  /** The manifest kind. Default: `"Agent"`. */
  kind: 'Agent';
  /** The agent id; workflows name it in `agent`. */
  id: Slug;
  /** A short human-readable name, shown in the API and logs. */
  name?: DisplayName;
  /** What this manifest is for, in a sentence or two. */
  description?: Description;
  /** The model and the OpenAI-compatible API that serves it. */
  model: AgentModel;
  /** The system prompt. */
  instructions: string;
  /** Connector actions the agent may call: an action id, or `{ use, maxCalls, constrain }` to bound its calls and arguments. Each action's input schema becomes the tool's parameters. Default: `[]`. */
  tools?: Array<ActionRef | AgentTool>;
  /** Hard limits of one agent task; reaching one ends the task with what it has. */
  limits?: AgentLimits;
}

/** A tool with limits: a refused call goes back to the model as an error and never reaches the provider. */
export interface AgentTool {
  /** The connector action. */
  use: ActionRef;
  /** Most calls of this tool that run in one task; the model is refused any further call. */
  maxCalls?: number;
  /** Rules on the tool's arguments, by field (dots reach nested fields: `message.to`). Checked before every call. */
  constrain?: Record<string, AgentToolConstraint>;
}

/** One rule on one argument: `const` fixes it, `allow` lists what it may be, `forbid` keeps the model from setting it. A value `{{ secrets.NAME }}` is the tenant's secret of that name (for `allow`, separated by commas or spaces); unset, it allows nothing. */
export interface AgentToolConstraint {
  /** The only value allowed; set when the model leaves the field out. */
  const?: unknown;
  /** The model may not set the field: the action's configured default applies (a mailbox from `MS_MAIL_SENDER`, say). */
  forbid?: true;
  /** Allowed values (for a list, every item; numbers compare as text; letter case is ignored). `*` matches a run of characters other than `@`, spaces and `,;<>"`: `*@example.com`. An absent field is allowed. */
  allow?: string[];
}

/** The model and the OpenAI-compatible API that serves it. */
export interface AgentModel {
  /** The API: `openai`, `deepseek`, `cerebras`, or `custom` (any OpenAI-compatible `baseUrl`). Default: `"openai"`. */
  provider: 'openai' | 'deepseek' | 'cerebras' | 'custom';
  /** The model name as the provider spells it. */
  model: string;
  /** The API base URL; required for `custom`, overrides the provider's default otherwise. */
  baseUrl?: string;
  /** The tenant secret holding the API key; the provider's environment variable when absent. */
  apiKeySecret?: SecretName;
  /** Sampling temperature. Default: `0.2`. */
  temperature?: number;
}

/** Hard limits of one agent task; reaching one ends the task with what it has. */
export interface AgentLimits {
  /** Most model calls. Default: `8`. */
  maxTurns?: number;
  /** Most tool calls in total. Default: `20`. */
  maxToolCalls?: number;
  /** Most tokens (prompt and completion) in total. Default: `50000`. */
  tokenBudget?: number;
  /** Longest time the whole task may take. Default: `"2m"`. */
  timeout?: Duration;
}
