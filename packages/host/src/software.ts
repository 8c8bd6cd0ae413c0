/** What a host says it is in a hello answer and in /status. */
export const SOFTWARE = 'kmslab/0.1.0';
