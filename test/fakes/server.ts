// The fake provider server is part of the connector test kit (`atlas-engine/sdk/testing`).
export * from '../../engine/testing/fake-server.ts';
