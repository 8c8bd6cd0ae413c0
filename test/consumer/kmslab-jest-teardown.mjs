import { jestGlobalTeardown } from '@kmslab/testing';

export default jestGlobalTeardown();
