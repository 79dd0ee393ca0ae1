// n8n provider nodes become connector steps whose input is each n8n field rendered as Atlas
// templates, recipients split into lists, and other resources or operations refused by name.
import { describe, expect, it } from 'vitest';
import { node, stepsOf, workflow } from './n8n-workflow.ts';

const only = (type: string, version: number, parameters: Record<string, unknown>) => {
  const { steps, c } = stepsOf(workflow([node('Node', type, version, parameters)], ['Start', 'Node']));
  return { step: steps[0] ?? {}, untranslated: c.untranslated.map((u) => u.message) };
};

describe('n8n provider nodes', () => {
  it('sends Outlook mail and Email Send messages with recipient lists and templated fields', () => {
    const outlook = only('microsoftOutlook', 2, {
      toRecipients: 'a@example.com, b@example.com',
      subject: '=Hi {{ $json.name }}',
      bodyContent: 'Hello',
      additionalFields: { ccRecipients: 'c@example.com', bodyContentType: 'html' },
    });
    expect(outlook.step['uses']).toBe('msgraph.outlook.sendMail');
    expect(outlook.step['with']).toEqual({
      to: ['a@example.com', 'b@example.com'],
      cc: ['c@example.com'],
      subject: 'Hi {{ input.name }}',
      body: 'Hello',
      contentType: 'HTML',
    });
    const email = only('emailSend', 2.1, {
      fromEmail: 'ops@example.com',
      toEmail: 'a@example.com;b@example.com',
      bccEmail: '={{ $json.boss }}',
      subject: 'Report',
      emailFormat: 'text',
      text: 'Done',
    });
    expect(email.step['with']).toEqual({
      from: 'ops@example.com',
      to: ['a@example.com', 'b@example.com'],
      bcc: ['{{ input.boss }}'],
      subject: 'Report',
      text: 'Done',
    });
  });

  it('posts to Teams and creates calendar events from resource locators', () => {
    const teams = only('microsoftTeams', 2, {
      resource: 'channelMessage',
      operation: 'create',
      teamId: { __rl: true, value: 'team-1', mode: 'id' },
      channelId: 'channel-1',
      message: '={{ $json.text }}',
    });
    expect(teams.step['with']).toEqual({
      teamId: 'team-1',
      channelId: 'channel-1',
      text: '{{ input.text }}',
      contentType: 'text',
    });
    const calendar = only('googleCalendar', 1.3, {
      start: '={{ $json.start }}',
      end: '={{ $json.end }}',
      additionalFields: { summary: 'Sync', location: 'Room 1' },
    });
    expect(calendar.step['with']).toEqual({
      calendarId: 'primary',
      summary: 'Sync',
      location: 'Room 1',
      start: { dateTime: '{{ input.start }}' },
      end: { dateTime: '{{ input.end }}' },
    });
  });

  it('names the resource and operation it refuses', () => {
    expect(only('microsoftTeams', 2, {}).untranslated).toEqual(['Teams channel create']);
    expect(only('microsoftOutlook', 1, {}).untranslated).toEqual(['Outlook message get']);
    expect(only('twitter', 2, { resource: 'user' }).untranslated).toEqual([
      'X user create; Atlas publishes posts only',
    ]);
  });
});
