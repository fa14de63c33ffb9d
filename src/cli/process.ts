// Process-level behaviour of the mmcheck binary (not of main(), which tests call in-process).
/** A closed pipe on stdout (`mmcheck list | head -1`) ends mmcheck quietly: the reader has all
 * it wanted. Without this, Node reports EPIPE as an unhandled error with a stack trace. */
export function installPipeGuards(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}
