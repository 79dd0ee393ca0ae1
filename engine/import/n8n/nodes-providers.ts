// The n8n provider nodes (Telegram, Stripe, Microsoft, Google, email, social) as Atlas connector steps.
import { clip, isExpression, Problem } from './expressions.ts';
import {
  type DataMap,
  declared,
  fields,
  identity,
  isObject,
  locatorValue,
  type Mapper,
  type Mapping,
  type NodeContext,
  recipients,
  resourceOperation,
  step,
  templated,
  templates,
} from './node-kit.ts';

// --- Provider nodes ---------------------------------------------------------------------

export function telegram(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const { resource, operation } = resourceOperation(ctx, 'message', 'sendMessage');
  if (resource !== 'message' || operation !== 'sendMessage')
    return new Problem(
      `Telegram ${resource} ${operation}; Atlas has telegram.sendMessage, sendDocument (as a file, not binary data) and setWebhook`,
    );
  ctx.secret(
    'TELEGRAM_BOT_TOKEN',
    `the bot token of n8n credential "${ctx.node.credentials['telegramApi']?.name ?? 'telegramApi'}"`,
  );
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  if (extra['reply_markup'] !== undefined || (p['replyMarkup'] !== undefined && p['replyMarkup'] !== 'none'))
    return new Problem('a reply keyboard; send it with http.request to the Bot API');
  if (ctx.node.typeVersion >= 1.1 && extra['appendAttribution'] !== false)
    ctx.note(
      `"${ctx.node.name}": n8n appended "This message was sent automatically with n8n"; Atlas sends the text as written`,
    );
  const input = fields({
    ...templated({ chat_id: p['chatId'] ?? '', text: p['text'] ?? '' }, ctx),
    parse_mode: extra['parse_mode'],
    disable_notification: extra['disable_notification'],
    reply_to_message_id: extra['reply_to_message_id'],
    message_thread_id: extra['message_thread_id'],
  });
  const data: DataMap = (path) => {
    const key = path.join('.');
    if (key === 'result.message_id') return ['message_id'];
    if (key === 'result.chat.id') return ['chat_id'];
    if (key === 'result.date') return ['date'];
    return new Problem(
      `the Telegram answer field "${clip(key, 40)}" (Atlas outputs message_id, chat_id and date)`,
    );
  };
  return step('telegram.sendMessage', input, data);
}

export function stripe(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const { resource, operation } = resourceOperation(ctx, 'balance', 'get');
  ctx.secret(
    'STRIPE_SECRET_KEY',
    `n8n credential "${ctx.node.credentials['stripeApi']?.name ?? 'stripeApi'}"`,
  );
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  if (resource === 'customer' && operation === 'create') {
    const known = new Set(['email', 'phone', 'description', 'metadata']);
    const unknown = Object.keys(extra).filter((k) => !known.has(k));
    if (unknown.length > 0) return new Problem(`customer fields ${unknown.join(', ')}`);
    let metadata: unknown;
    if (isObject(extra['metadata']) && Array.isArray(extra['metadata']['metadataProperties'])) {
      const m: Record<string, unknown> = {};
      for (const item of extra['metadata']['metadataProperties'])
        if (isObject(item)) m[String(item['key'])] = item['value'];
      metadata = templates(m, ctx);
    }
    return step(
      'stripe.customers.create',
      fields({
        ...templated(
          {
            name: p['name'],
            email: extra['email'],
            phone: extra['phone'],
            description: extra['description'],
          },
          ctx,
        ),
        metadata,
      }),
      declared('stripe.customers.create', ['id', 'object']),
    );
  }
  if (resource === 'customer' && operation === 'get')
    return step(
      'stripe.customers.retrieve',
      fields({ id: templates(p['customerId'] ?? '', ctx) }),
      declared('stripe.customers.retrieve', ['id', 'object']),
    );
  return new Problem(
    `Stripe ${resource} ${operation}; Atlas has customers, payment intents, refunds, checkout sessions and invoices`,
  );
}

export function outlook(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const { resource, operation } = resourceOperation(
    ctx,
    'message',
    ctx.node.typeVersion >= 2 ? 'send' : 'get',
  );
  if (resource !== 'message' || operation !== 'send') return new Problem(`Outlook ${resource} ${operation}`);
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  ctx.note(
    'Outlook mail goes through the platform app: the operator assigns the sending mailbox to the tenant',
  );
  const type = String(extra['bodyContentType'] ?? p['bodyContentType'] ?? 'Text');
  return step(
    'msgraph.outlook.sendMail',
    fields({
      ...recipients(p['toRecipients'], extra['ccRecipients'], extra['bccRecipients'], ctx),
      ...templated({ subject: p['subject'] ?? '', body: p['bodyContent'] ?? '' }, ctx),
      contentType: type.toLowerCase() === 'html' ? 'HTML' : 'Text',
    }),
  );
}

export function teams(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const { resource, operation } = resourceOperation(ctx, 'channel', 'create');
  if (resource !== 'channelMessage' || operation !== 'create')
    return new Problem(`Teams ${resource} ${operation}`);
  ctx.integration('microsoft', 'posting to Teams channels');
  return step(
    'msgraph.teams.postMessage',
    fields({
      ...templated(
        {
          teamId: locatorValue(p['teamId']),
          channelId: locatorValue(p['channelId']),
          text: p['message'] ?? '',
        },
        ctx,
      ),
      contentType: String(p['messageType'] ?? p['contentType'] ?? 'text') === 'html' ? 'html' : 'text',
    }),
  );
}

export function googleCalendar(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const { resource, operation } = resourceOperation(ctx, 'event', 'create');
  if (resource !== 'event' || operation !== 'create')
    return new Problem(`Google Calendar ${resource} ${operation}`);
  ctx.integration('google', 'Google Calendar');
  const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
  const attendees = Array.isArray(extra['attendees'])
    ? extra['attendees'].flatMap((a) => (typeof a === 'string' ? a.split(',') : []))
    : undefined;
  return step(
    'google.calendar.insertEvent',
    fields({
      ...templated(
        {
          calendarId: locatorValue(p['calendar']) ?? 'primary',
          summary: extra['summary'] ?? '',
          description: extra['description'],
          location: extra['location'],
        },
        ctx,
      ),
      start: fields({ dateTime: templates(p['start'], ctx) }),
      end: fields({ dateTime: templates(p['end'], ctx) }),
      attendees: attendees
        ? templates(
            attendees.map((a) => a.trim()),
            ctx,
          )
        : undefined,
    }),
    identity,
  );
}

export function googleDrive(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const operation = String(p['operation'] ?? 'upload');
  if (operation === 'list' || (p['resource'] === 'fileFolder' && operation === 'search')) {
    ctx.integration('google', 'Google Drive');
    const query = p['queryString'] ?? (isObject(p['filter']) ? undefined : undefined);
    return step(
      'google.drive.listFiles',
      fields({ q: query === undefined ? undefined : templates(query, ctx) }),
    );
  }
  return new Problem(`Google Drive ${operation} (binary data); Atlas uploads files given as content`);
}

export function emailSend(ctx: NodeContext): Mapping {
  const p = ctx.node.parameters;
  const format = String(p['emailFormat'] ?? (ctx.node.typeVersion >= 2 ? 'html' : 'text'));
  ctx.note(
    'mail goes through Microsoft Graph or Resend, not the n8n SMTP credential: set RESEND_API_KEY or the Graph mailboxes',
  );
  const legacy = ctx.node.typeVersion < 2;
  const text = legacy ? p['text'] : format === 'text' || format === 'both' ? p['text'] : undefined;
  const html = legacy ? p['html'] : format === 'html' || format === 'both' ? p['html'] : undefined;
  return step(
    'email.send',
    fields({
      from: templates(p['fromEmail'], ctx),
      ...recipients(p['toEmail'], p['ccEmail'], p['bccEmail'], ctx),
      subject: templates(p['subject'] ?? '', ctx),
      text: text === undefined || text === '' ? undefined : templates(text, ctx),
      html:
        html === undefined || html === ''
          ? text
            ? undefined
            : templates(html ?? '', ctx)
          : templates(html, ctx),
    }),
  );
}

export function social(network: 'x' | 'linkedin'): Mapper {
  return (ctx) => {
    const p = ctx.node.parameters;
    const { resource, operation } = resourceOperation(ctx, network === 'x' ? 'tweet' : 'post', 'create');
    if (operation !== 'create' || (resource !== 'tweet' && resource !== 'post'))
      return new Problem(
        `${network === 'x' ? 'X' : 'LinkedIn'} ${resource} ${operation}; Atlas publishes posts only`,
      );
    ctx.integration(network, network === 'x' ? 'posting to X' : 'posting to LinkedIn');
    const extra = isObject(p['additionalFields']) ? p['additionalFields'] : {};
    if (network === 'linkedin') {
      const postAs = String(p['postAs'] ?? 'person');
      const who = postAs === 'organization' ? p['organization'] : p['person'];
      if (typeof who !== 'string' || isExpression(who))
        return new Problem('a LinkedIn author given by an expression');
      if (String(p['shareMediaCategory'] ?? 'NONE') === 'IMAGE')
        return new Problem('a LinkedIn image post (binary data)');
      return step(
        'social.publish',
        fields({
          network,
          text: templates(p['text'] ?? '', ctx),
          author: `urn:li:${postAs === 'organization' ? 'organization' : 'person'}:${who}`,
          linkUrl: templates(extra['originalUrl'], ctx),
        }),
      );
    }
    if (Object.keys(extra).length > 0) return new Problem(`tweet options ${Object.keys(extra).join(', ')}`);
    return step('social.publish', fields({ network, text: templates(p['text'] ?? '', ctx) }));
  };
}
