// The invalid corpus: every fixture in test/fixtures/manifests/invalid/ and the exact errors
// it must produce (line, column, keyword, message). Each was checked by hand against the file.
export const EXPECTED: Record<string, [line: number, column: number, keyword: string, message: string][]> = {
  'agent-constraint-both-rules.yaml': [
    [11, 7, 'maxProperties', 'tools[0].constrain.to must have at most 1 field'],
  ],
  'agent-constraint-template.yaml': [
    [
      11,
      38,
      'agent-tool',
      '{{ tenant.config.recipients }}: a constraint reads only a whole "{{ secrets.NAME }}"',
    ],
  ],
  'agent-constraint-unknown-field.yaml': [
    [13, 7, 'agent-tool', 'email.send has no input field "too"; did you mean "to"?'],
  ],
  'agent-custom-without-base-url.yaml': [[5, 1, 'required', 'model is missing the required field "baseUrl"']],
  'agent-limits-negative.yaml': [[9, 13, 'minimum', 'limits.maxTurns must be at least 1, not -1']],
  'agent-provider-typo.yaml': [
    [
      6,
      13,
      'enum',
      'model.provider must be one of "openai", "deepseek", "cerebras", "custom", not "openia"; did you mean "openai"?',
    ],
  ],
  'agent-tool-listed-twice.yaml': [
    [10, 10, 'agent-tool', 'tool "email.send" is listed twice; keep one entry'],
  ],
  'agent-unknown-tool.yaml': [
    [
      8,
      19,
      'unknown-action',
      'tool "http.requests" is not a registered connector action; did you mean "http.request"?',
    ],
  ],
  'backoff-factor-string.yaml': [
    [13, 17, 'type', 'steps[0].retry.backoff.factor must be a number, not a string'],
  ],
  'backoff-initial-above-max.yaml': [
    [12, 27, 'duration', 'backoff initial (10m) is longer than its max (1m)'],
  ],
  'bad-on-error.yaml': [[11, 14, 'enum', 'steps[0].onError must be one of "fail", "continue", not "abort"']],
  'bad-timeout.yaml': [
    [11, 14, 'pattern', 'steps[0].timeout "30 seconds" is not valid: it must look like "30s"'],
  ],
  'bad-workflow-id.yaml': [[3, 5, 'pattern', 'id "WF-10" is not valid: it must look like "WF-010"']],
  'concurrency-key-reads-steps.yaml': [
    [7, 9, 'template', '{{ steps.first.output }}: steps cannot be read here (only trigger, input, tenant)'],
  ],
  'concurrency-without-limit.yaml': [[6, 1, 'required', 'concurrency is missing the required field "limit"']],
  'credential-jwt.yaml': [
    [
      12,
      24,
      'credential',
      'this looks like a JSON Web Token; store it as a tenant secret and refer to it by name, e.g. {{ secrets.API_KEY }}',
    ],
  ],
  'credential-pem.yaml': [
    [
      10,
      14,
      'credential',
      'this looks like a PEM private key; store it as a tenant secret and refer to it by name, e.g. {{ secrets.API_KEY }}',
    ],
  ],
  'credential-slack-token.yaml': [
    [
      10,
      16,
      'credential',
      'this looks like a Slack token; store it as a tenant secret and refer to it by name, e.g. {{ secrets.API_KEY }}',
    ],
  ],
  'credential-stripe-key.yaml': [
    [
      12,
      24,
      'credential',
      'this looks like a Stripe secret key; store it as a tenant secret and refer to it by name, e.g. {{ secrets.API_KEY }}',
    ],
  ],
  'credential-webhook-secret.yaml': [
    [
      7,
      11,
      'credential',
      'this looks like a webhook signing secret; store it as a tenant secret and refer to it by name, e.g. {{ secrets.API_KEY }}',
    ],
  ],
  'cron-bad-minute.yaml': [
    [6, 9, 'cron', 'cron "61 8 * * *" is not valid: Constraint error, got value 61 expected range 0-59'],
  ],
  'cron-four-fields.yaml': [
    [
      6,
      9,
      'cron',
      'cron "30 8 * *" has 4 fields; write five: minute hour day-of-month month day-of-week (UTC), e.g. "30 8 * * *"',
    ],
  ],
  'duplicate-step-id.yaml': [[11, 9, 'duplicate-step', 'step id "first" is already used by steps[0]']],
  'duplicate-workflow-id.yaml': [
    [14, 5, 'duplicate-id', 'Workflow WF-100 is already defined at duplicate-workflow-id.yaml:3:5'],
  ],
  'empty-steps.yaml': [[6, 1, 'minItems', 'steps must have at least 1 item']],
  'event-trigger-self.yaml': [[6, 13, 'reference', 'a workflow cannot be triggered by its own runs']],
  'event-trigger-unknown.yaml': [[6, 13, 'reference', 'there is no Workflow "WF-999"']],
  'input-schema-invalid.yaml': [
    [6, 1, 'input-schema', 'input is not a valid JSON Schema: unknown keyword: "requried"'],
  ],
  'json-missing-trigger.json': [[1, 1, 'required', 'the manifest is missing the required field "trigger"']],
  'json-syntax-error.json': [[4, 3, 'yaml', 'invalid YAML: Missing , between flow map items']],
  'logic-reads-secret.yaml': [
    [
      11,
      25,
      'logic',
      'var "secrets.TOKEN": secrets cannot be read here (only trigger, input, steps, tenant, run)',
    ],
  ],
  'logic-trigger-filter-step.yaml': [
    [7, 23, 'logic', 'var "steps.first.output": steps cannot be read here (only trigger, tenant)'],
  ],
  'logic-unknown-operator.yaml': [[11, 11, 'logic', 'unknown JSON Logic operator "equals"']],
  'logic-var-unknown-step.yaml': [
    [12, 21, 'logic', 'var "steps.chek.output.ok": there is no step "chek"; did you mean "check"?'],
  ],
  'missing-kind.yaml': [
    [
      1,
      1,
      'required',
      'the manifest is missing the required field "kind" (one of Workflow, WebhookRoute, OAuthProvider, Agent)',
    ],
  ],
  'missing-steps.yaml': [[1, 1, 'required', 'the manifest is missing the required field "steps"']],
  'missing-trigger.yaml': [[1, 1, 'required', 'the manifest is missing the required field "trigger"']],
  'misspelled-kind.yaml': [
    [
      2,
      7,
      'enum',
      'kind must be one of Workflow, WebhookRoute, OAuthProvider, Agent, not "Workfow"; did you mean "Workflow"?',
    ],
  ],
  'multi-document-second-invalid.yaml': [
    [
      22,
      7,
      'input',
      'unknown field "colour" in with (known fields: message, level, data) (input of core.log)',
    ],
  ],
  'needs-itself.yaml': [
    [9, 13, 'needs', 'needs "first", which is this step; a step can only wait for earlier steps'],
  ],
  'needs-later-step.yaml': [
    [9, 13, 'needs', 'needs "second", which comes later; a step can only wait for earlier steps'],
  ],
  'needs-not-a-list.yaml': [[13, 12, 'type', 'steps[1].needs must be a list, not a string']],
  'needs-typo.yaml': [
    [
      11,
      13,
      'needs',
      'needs "fetchInvoice", but there is no step "fetchInvoice"; did you mean "fetchInvoices"?',
    ],
  ],
  'not-a-map.yaml': [[1, 1, 'not-a-manifest', 'not a manifest: expected a map with apiVersion, kind and id']],
  'oauth-bad-pkce.yaml': [[6, 7, 'enum', 'pkce must be one of "S256", "none", not "plain"']],
  'oauth-bad-token-url.yaml': [
    [5, 11, 'format', 'tokenUrl "auth.example.com/token" is not a valid uri'],
    [6, 14, 'pattern', 'clientIdEnv "acme_client_id" is not valid: it must look like "GOOGLE_CLIENT_ID"'],
  ],
  'oauth-exchange-without-params.yaml': [
    [6, 10, 'oauth', 'refresh: exchange needs exchangeParams (e.g. grant_type: fb_exchange_token)'],
  ],
  'oauth-missing-authorization-url.yaml': [
    [1, 1, 'oauth', 'the authorization_code grant needs an authorizationUrl'],
  ],
  'retry-zero-attempts.yaml': [[12, 20, 'minimum', 'steps[0].retry.maxAttempts must be at least 1, not 0']],
  'route-bad-locator.yaml': [
    [9, 7, 'pattern', 'event.id "payload.id" is not valid: it must look like "body.id"'],
  ],
  'route-duplicate-path.yaml': [
    [
      16,
      7,
      'duplicate-path',
      'the path /v1/webhooks/hooks is already defined at route-duplicate-path.yaml:4:7',
    ],
  ],
  'route-empty-tenant.yaml': [[10, 1, 'minProperties', 'tenant must have at least 1 field']],
  'route-hmac-without-header.yaml': [
    [5, 1, 'webhook', 'verify method hmac-sha256 needs the header that carries the signature'],
  ],
  'route-missing-verify.yaml': [[1, 1, 'required', 'the manifest is missing the required field "verify"']],
  'route-path-outside-v1.yaml': [
    [4, 7, 'pattern', 'path "/webhooks/hooks" is not valid: it must look like "/v1/webhooks/stripe"'],
  ],
  'route-verify-method-typo.yaml': [
    [
      6,
      11,
      'enum',
      'verify.method must be one of "stripe-signature", "telegram-secret-token", "teams-hmac", "standard-webhooks", "hmac-sha256", not "stripe-signatur"; did you mean "stripe-signature"?',
    ],
  ],
  'scalar-document.yaml': [
    [1, 1, 'not-a-manifest', 'not a manifest: expected a map with apiVersion, kind and id'],
  ],
  'schedule-without-cron.yaml': [[4, 1, 'required', 'trigger is missing the required field "cron"']],
  'step-id-with-dash.yaml': [
    [7, 9, 'pattern', 'steps[0].id "first-step" is not valid: it must look like "fetchInvoices"'],
  ],
  'step-without-uses.yaml': [[7, 5, 'required', 'steps[0] is missing the required field "uses"']],
  'template-filter-syntax.yaml': [
    [10, 23, 'template', '{{ input.name | upper }}: unexpected " | upper" in the path "input.name | upper"'],
  ],
  'template-input-undeclared.yaml': [
    [
      14,
      23,
      'template',
      '{{ input.nmae }}: input has no field "nmae" in the workflow input schema; did you mean "name"?',
    ],
  ],
  'template-later-step.yaml': [
    [
      10,
      17,
      'template',
      '{{ steps.second.output.message }}: step "second" runs later; only earlier steps can be read',
    ],
  ],
  'template-not-needed.yaml': [
    [
      16,
      17,
      'template',
      '{{ steps.a.output }}: step "a" may not have finished: add it to this step\'s needs',
    ],
  ],
  'template-output-field-typo.yaml': [
    [
      14,
      17,
      'template',
      '{{ steps.fetch.output.bdy }}: steps.fetch.output has no field "bdy" in the output of http.request; did you mean "body"?',
    ],
  ],
  'template-output-of-scalar.yaml': [
    [
      14,
      17,
      'template',
      '{{ steps.fetch.output.status.code }}: steps.fetch.output.status is an integer; it has no field "code"',
    ],
  ],
  'template-secret-name.yaml': [
    [
      12,
      32,
      'template',
      '{{ secrets.api-key }}: secrets are read by name, as secrets.NAME (letters, digits and _)',
    ],
  ],
  'template-step-field-typo.yaml': [
    [14, 17, 'template', '{{ steps.a.outptu }}: steps.a has no field "outptu"; did you mean "output"?'],
  ],
  'template-step-typo.yaml': [
    [
      14,
      23,
      'template',
      '{{ steps.fetchInvoice.output }}: there is no step "fetchInvoice"; did you mean "fetchInvoices"?',
    ],
  ],
  'template-tenant-field.yaml': [
    [10, 21, 'template', '{{ tenant.nme }}: tenant has no field "nme"; did you mean "name"?'],
  ],
  'template-trigger-field.yaml': [
    [
      11,
      17,
      'template',
      '{{ trigger.body.id }}: a schedule trigger has no field "body"; it has type, at, scheduledAt',
    ],
  ],
  'template-unclosed.yaml': [[10, 23, 'template', '{{: "{{" is never closed with "}}"']],
  'template-unknown-root.yaml': [
    [10, 23, 'template', '{{ inputs.name }}: unknown root "inputs"; did you mean "input"?'],
  ],
  'timeout-zero.yaml': [[11, 14, 'duration', 'timeout must be longer than 0']],
  'trigger-type-typo.yaml': [
    [
      5,
      9,
      'enum',
      'trigger.type must be one of "schedule", "webhook", "manual", "event", not "schedul"; did you mean "schedule"?',
    ],
  ],
  'unknown-action.yaml': [
    [8, 11, 'unknown-action', 'connector "core" has no action "lgo"; did you mean "core.log"?'],
  ],
  'unknown-agent.yaml': [[6, 8, 'reference', 'there is no Agent "support-bot"']],
  'unknown-connector.yaml': [
    [8, 11, 'unknown-action', 'no connector "htp" is registered; did you mean "http.request"?'],
  ],
  'unknown-step-field.yaml': [
    [9, 5, 'additionalProperties', 'unknown field "wiht" in steps[0]; did you mean "with"?'],
  ],
  'unknown-top-field.yaml': [
    [1, 1, 'required', 'the manifest is missing the required field "steps"'],
    [6, 1, 'additionalProperties', 'unknown field "setps" in the manifest; did you mean "steps"?'],
  ],
  'uses-without-action.yaml': [
    [8, 11, 'pattern', 'steps[0].uses "core" is not valid: it must look like "http.request"'],
  ],
  'webhook-route-typo.yaml': [
    [6, 10, 'reference', 'there is no WebhookRoute "strpe"; did you mean "stripe"?'],
  ],
  'with-bad-enum.yaml': [
    [
      11,
      14,
      'input',
      'with.level must be one of "debug", "info", "warn", "error", not "loud" (input of core.log)',
    ],
  ],
  'with-bad-url.yaml': [[10, 12, 'input', 'with.url "not a url" is not a valid uri (input of http.request)']],
  'with-missing-required.yaml': [
    [9, 5, 'input', 'with is missing the required field "message" (input of core.log)'],
  ],
  'with-unknown-field.yaml': [
    [9, 5, 'input', 'with is missing the required field "message" (input of core.log)'],
    [10, 7, 'input', 'unknown field "mesage" in with; did you mean "message"? (input of core.log)'],
  ],
  'with-wrong-type.yaml': [
    [10, 11, 'input', 'with.ms must be an integer, not a string (input of core.sleep)'],
  ],
  'wrong-api-version.yaml': [[1, 13, 'const', 'apiVersion must be "atlas/v1", not "atlas/v2"']],
  'yaml-bad-indentation.yaml': [[9, 1, 'yaml', 'invalid YAML: Sequence item without - indicator']],
  'yaml-duplicate-key.yaml': [[9, 5, 'yaml', 'invalid YAML: Map keys must be unique']],
  'yaml-unclosed-quote.yaml': [[9, 1, 'yaml', 'invalid YAML: Missing closing "quote']],
  'foreach-not-list.yaml': [[12, 15, 'for-each', 'forEach must be a list, but input.customer is a string']],
  'foreach-item-typo.yaml': [
    [20, 23, 'template', '{{ invoce.id }}: unknown root "invoce"; did you mean "invoice"?'],
    [
      20,
      39,
      'template',
      '{{ invoice.emial }}: invoice has no field "emial" in the invoice value; did you mean "email"?',
    ],
    [20, 59, 'template', '{{ loop.count }}: loop has no field "count" in the loop value (it has index)'],
  ],
  'foreach-item-outside.yaml': [
    [
      13,
      23,
      'template',
      '{{ invoice }}: unknown root "invoice"; expressions read trigger, input, steps, tenant, run, secrets',
    ],
  ],
  'foreach-options-without-loop.yaml': [
    [8, 5, 'for-each', 'concurrency only applies to a step with forEach'],
    [12, 14, 'for-each', 'forEach must be a list: write one template, such as {{ steps.list.output.items }}'],
    [13, 9, 'for-each', 'as: "steps" would hide steps; choose another name'],
  ],
  'foreach-wait.yaml': [
    [8, 5, 'for-each', 'a durable wait parks the whole run; it cannot run per item of a forEach'],
  ],
  'signal-bad-name.yaml': [
    [
      8,
      19,
      'input',
      'with.name "manager approval" is not valid: it must look like "approval" (input of core.waitForSignal)',
    ],
    [11, 5, 'on-timeout', 'onTimeout only applies to core.waitForSignal'],
  ],
};
