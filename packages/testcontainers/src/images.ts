/**
 * Image names, each configurable: the defaults are what users elsewhere have
 * (`docker build -f infra/docker/Dockerfile -t kmslab/kmslab .`, the public
 * `redis:7`); machines without a registry set KMSLAB_IMAGE / KMSLAB_REDIS_IMAGE.
 */
export const KMSLAB_IMAGE = process.env.KMSLAB_IMAGE ?? 'kmslab/kmslab:latest';
/** The Redis image (`KMSLAB_REDIS_IMAGE`, default `redis:7`). */
export const REDIS_IMAGE = process.env.KMSLAB_REDIS_IMAGE ?? 'redis:7';
