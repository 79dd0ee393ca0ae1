import { ConnectorError, defineAction, expectArray, expectRecord, isRecord } from 'atlas-engine/sdk';
import { calendarClient, expectData, mapGoogleError } from '../../client.ts';

const calendarId = {
  type: 'string',
  default: 'primary',
  description: 'Calendar id; `primary` is the user’s main calendar.',
};
const when = {
  type: 'object',
  description: '`{ dateTime, timeZone? }` for a timed event or `{ date }` (YYYY-MM-DD) for an all-day one.',
  properties: {
    dateTime: { type: 'string', format: 'date-time' },
    date: { type: 'string', format: 'date' },
    timeZone: { type: 'string' },
  },
};
const event = {
  type: 'object',
  required: ['id'],
  properties: {
    id: { type: 'string' },
    summary: { type: 'string' },
    status: { type: 'string' },
    htmlLink: { type: 'string' },
    start: when,
    end: when,
  },
};

function checkEvent(value: unknown, what: string): Record<string, unknown> {
  const e = expectRecord(value, what);
  if (typeof e['id'] !== 'string') throw ConnectorError.invalidResponse(`${what}: event has no id`);
  return e;
}

interface ListEventsInput {
  calendarId?: string;
  timeMin?: string;
  timeMax?: string;
  q?: string;
  maxResults?: number;
  pageToken?: string;
}

export const calendarListEvents = defineAction<
  ListEventsInput,
  { events: Record<string, unknown>[]; nextPageToken?: string }
>({
  id: 'calendar.listEvents',
  description: 'List events of a Google calendar in a time range, expanded and ordered by start time.',
  readOnly: true,
  input: {
    type: 'object',
    additionalProperties: false,
    properties: {
      calendarId,
      timeMin: { type: 'string', format: 'date-time', description: 'Events ending after this time.' },
      timeMax: { type: 'string', format: 'date-time', description: 'Events starting before this time.' },
      q: { type: 'string', description: 'Free-text search.' },
      maxResults: { type: 'integer', minimum: 1, maximum: 2500, default: 50, description: 'Page size.' },
      pageToken: { type: 'string', description: 'Next page token from a previous call.' },
    },
  },
  output: {
    type: 'object',
    required: ['events'],
    properties: { events: { type: 'array', items: event }, nextPageToken: { type: 'string' } },
  },
  async run(ctx, input) {
    const cal = await calendarClient(ctx);
    let data: unknown;
    try {
      // singleEvents expands recurring events, which orderBy=startTime requires.
      ({ data } = await cal.events.list({
        ...input,
        calendarId: input.calendarId ?? 'primary',
        singleEvents: true,
        orderBy: 'startTime',
      }));
    } catch (err) {
      throw mapGoogleError(err, 'google calendar');
    }
    const page = expectData(data, 'google calendar events');
    const events = expectArray(page['items'] ?? [], 'google calendar events').map((e) =>
      checkEvent(e, 'google calendar event'),
    );
    return {
      events,
      ...(typeof page['nextPageToken'] === 'string' ? { nextPageToken: page['nextPageToken'] } : {}),
    };
  },
});

interface InsertEventInput {
  calendarId?: string;
  summary: string;
  description?: string;
  location?: string;
  start: { dateTime?: string; date?: string; timeZone?: string };
  end: { dateTime?: string; date?: string; timeZone?: string };
  attendees?: string[];
  sendUpdates?: 'all' | 'externalOnly' | 'none';
}

export const calendarInsertEvent = defineAction<InsertEventInput, Record<string, unknown>>({
  id: 'calendar.insertEvent',
  description: 'Create an event in a Google calendar, optionally inviting attendees.',
  input: {
    type: 'object',
    additionalProperties: false,
    required: ['summary', 'start', 'end'],
    properties: {
      calendarId,
      summary: { type: 'string', description: 'Title.' },
      description: { type: 'string', description: 'Details.' },
      location: { type: 'string', description: 'Where.' },
      start: when,
      end: when,
      attendees: { type: 'array', items: { type: 'string', format: 'email' }, description: 'Invitees.' },
      sendUpdates: {
        enum: ['all', 'externalOnly', 'none'],
        default: 'none',
        description: 'Who gets invitation emails.',
      },
    },
  },
  output: event,
  async run(ctx, input) {
    const { calendarId: id = 'primary', sendUpdates = 'none', attendees, ...fields } = input;
    const cal = await calendarClient(ctx);
    let data: unknown;
    try {
      ({ data } = await cal.events.insert({
        calendarId: id,
        sendUpdates,
        requestBody: {
          ...fields,
          ...(attendees ? { attendees: attendees.map((email) => ({ email })) } : {}),
        },
      }));
    } catch (err) {
      throw mapGoogleError(err, 'google calendar');
    }
    const created = checkEvent(expectData(data, 'google calendar event'), 'google calendar event');
    return isRecord(created) ? created : {};
  },
});
