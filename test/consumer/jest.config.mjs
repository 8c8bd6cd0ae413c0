export default { testMatch: ['**/fixture.jest.test.mjs'], transform: {}, globalSetup: './kmslab-jest-setup.mjs', globalTeardown: './kmslab-jest-teardown.mjs' };
