// vitest globalSetup: one in-process lab for the whole run (docs/testing.md).
import { vitestGlobalSetup } from '@kmslab/testing';

export default vitestGlobalSetup({ hosts: [{ name: 'kms1' }, { name: 'kms2', priority: 10 }] });
