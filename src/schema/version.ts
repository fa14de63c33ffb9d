// mmcheck's version, written into traces, checkpoints and JSON reports (a test keeps it equal
// to package.json's).
export const VERSION = '0.1.0';
