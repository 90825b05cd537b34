// The OpenAPI 3.1 document of the lookup API (GET /v1/openapi.json), from the routes' own schemas.
import {
  activityQuerystring, alertContextSchema, alertParams, alertQuerystring, deviceParams, errorSchema, meSchema, pageSchema, unownedQuerystring,
} from './schemas';

type ObjectSchema = { properties: Record<string, object>; required?: readonly string[] };

function parameters(where: 'path' | 'query', schema: ObjectSchema): object[] {
  return Object.entries(schema.properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (schema.required ?? []).includes(name),
    description: (property as { description?: string }).description,
    schema: property,
  }));
}

const json = (schema: object, description: string) => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(errorSchema, 'Malformed parameters (bad device ID, bad times, from after to, limit outside 1..1000, bad cursor, unknown parameter)'),
  401: json(errorSchema, 'No token, or a token that is not valid (signature, expiry, issuer, audience, sub)'),
  429: json(errorSchema, 'Rate limit of the caller (per token sub) exceeded'),
};

export function openApiDocument(options: { issuer: string; audience: string; serverUrl?: string }): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'SRV visibility lookup API',
      version: '1',
      description:
        'A party\'s view of a device\'s Service Request activity (MP141), newest first, within the retention window ' +
        '(three calendar months back from now). Bearer JWTs (ES256 or EdDSA), claim sub = the party\'s User ID (EUI-64), ' +
        `scope "operator" for operators, iss "${options.issuer}", aud "${options.audience}", exp required.`,
    },
    ...(options.serverUrl ? { servers: [{ url: options.serverUrl }] } : {}),
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    paths: {
      '/v1/devices/{deviceId}/activity': {
        get: {
          summary: 'The caller\'s view of one device',
          description:
            'A party: the copies it received (LATE_OWNERSHIP ones included, RETRACTED ones not); as the device\'s current owner, also the device\'s records ' +
            'from before it gained it, flagged BEFORE_OWNERSHIP, originatorId null, recipient fields its own, each event once. ' +
            'An operator: every copy of the device, with originatorId (retracted ones flagged RETRACTED). 404, identical, for an unknown device and for a device the party neither owns nor owned.',
          parameters: [...parameters('path', deviceParams), ...parameters('query', activityQuerystring)],
          responses: { 200: json(pageSchema, 'A page, newest first (eventTime, then eventId, descending)'), ...errors, 404: json(errorSchema, 'No such device (or not yours)') },
        },
      },
      '/v1/unowned': {
        get: {
          summary: 'Operators: records no owner was found for (visibility.unowned)',
          parameters: parameters('query', unownedQuerystring),
          responses: { 200: json(pageSchema, 'A page, newest first'), ...errors, 403: json(errorSchema, 'Not an operator token') },
        },
      },
      '/v1/alerts/{alertId}': {
        get: {
          summary: 'The caller\'s AlertContext of an alert',
          description:
            'A party: its own AlertContext (recipientPartyId = its User ID), as published on its party topic. An operator: any recipient\'s, ' +
            'chosen with recipientPartyId (default: the alert\'s recipient). 404, identical, for an unknown alert, another recipient\'s, and one ' +
            'whose eventTime is before the retention window.',
          parameters: [...parameters('path', alertParams), ...parameters('query', alertQuerystring)],
          responses: {
            200: json(alertContextSchema, 'The AlertContext: times epoch ms, absent values null, triggers newest first'),
            ...errors,
            403: json(errorSchema, 'recipientPartyId given by a party'),
            404: json(errorSchema, 'No such alert (or not yours)'),
          },
        },
      },
      '/v1/me': {
        get: { summary: 'Who the token names', responses: { 200: json(meSchema, 'The caller'), 401: errors[401] } },
      },
      '/v1/openapi.json': { get: { summary: 'This document', security: [], responses: { 200: { description: 'OpenAPI 3.1' } } } },
    },
  };
}
