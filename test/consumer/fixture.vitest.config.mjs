export default { test: { include: ['fixture.test.mjs'], globalSetup: ['./kmslab-setup.mjs'] } };
