// A start-up failure an operator must fix, said in one line (a port taken, a state file another
// instance holds, a folder that can't be written): `signpost serve` prints it and exits 3.

export class StartupError extends Error {}
