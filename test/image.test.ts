import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { KMSLAB_IMAGE } from '@kmslab/testcontainers';
import { requireDockerAndImage, sh } from './support/docker.js';

const NODE_IMAGE = process.env.KMSLAB_NODE_IMAGE ?? 'node:22-bookworm-slim';
const size = (image: string) => Number(sh('docker', ['image', 'inspect', image, '--format', '{{.Size}}']).trim());

/** The image is the product: what users install (the packed packages), small, and it runs. */
describe('the kmslab image', () => {
  test('docker run IMAGE --version is the CLI package version; up answers; it weighs at most 30 MB over its Node base', () => {
    requireDockerAndImage();
    const version = JSON.parse(readFileSync(new URL('../packages/cli/package.json', import.meta.url), 'utf8')).version;
    expect(sh('docker', ['run', '--rm', KMSLAB_IMAGE, '--version']).trim()).toBe(version);
    const help = sh('docker', ['run', '--rm', KMSLAB_IMAGE, 'up', '--help']);
    expect(help).toMatch(/^Usage: kmslab up/);
    // Installed from the packed tarballs with npm, as a user would: no workspace sources in it.
    const tree = sh('docker', ['run', '--rm', '--entrypoint', 'sh', KMSLAB_IMAGE, '-c', 'ls /opt/kmslab/node_modules/@kmslab; ls /opt/kmslab/node_modules/@kmslab/cli; test ! -e /app']);
    expect(tree).toMatch(/^cli\nclient\ncore\ndashboard\ndns\ndns-wire\nhost\nlab\n/);
    expect(tree).not.toMatch(/\bsrc\b/);
    const over = (size(KMSLAB_IMAGE) - size(NODE_IMAGE)) / 2 ** 20;
    console.log(`image ${KMSLAB_IMAGE}: ${(size(KMSLAB_IMAGE) / 2 ** 20).toFixed(0)} MiB, ${over.toFixed(1)} MiB over ${NODE_IMAGE}`);
    expect(over).toBeLessThan(30);
  }, 120_000);
});
