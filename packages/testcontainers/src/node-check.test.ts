import { describe, expect, test } from 'vitest';
import { nodeMismatch } from './node-check.js';

describe('which testcontainers runs on which Node (testcontainers 12: engines node >= 22.22)', () => {
  test('testcontainers 12 on Node 20 is one line saying what to install; 11 anywhere and 12 on 22.22+ are fine', () => {
    expect(nodeMismatch('v20.20.2', '12.2.0')).toBe(
      'testcontainers 12.2.0 needs Node 22.22 or newer and this is Node v20.20.2: install testcontainers 11 for Node 20 (npm install -D testcontainers@11), or run the tests on Node 22',
    );
    expect(nodeMismatch('v22.21.0', '12.0.0')).toMatch(/needs Node 22\.22/);
    expect(nodeMismatch('v20.20.2', '11.14.0')).toBeNull();
    expect(nodeMismatch('v22.23.3', '12.2.0')).toBeNull();
    expect(nodeMismatch('v24.1.0', '12.2.0')).toBeNull();
  });
});
