import { jestGlobalSetup } from '@kmslab/testing';

export default jestGlobalSetup({ hosts: [{ name: 'kms1' }] });
