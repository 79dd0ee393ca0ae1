import { defineConnector } from 'atlas-engine/sdk';
import { calendarInsertEvent, calendarListEvents } from './lib/actions/calendar.ts';
import { driveListFiles, driveUploadFile } from './lib/actions/drive.ts';

/** Google Calendar v3 and Drive v3 with the tenant’s Google OAuth integration. */
export const google = defineConnector({
  id: 'google',
  description: 'List and create Google Calendar events; list and upload Google Drive files.',
  auth: { type: 'oauth', provider: 'google' },
  baseUrl: 'https://www.googleapis.com/',
  actions: [calendarListEvents, calendarInsertEvent, driveListFiles, driveUploadFile],
});
