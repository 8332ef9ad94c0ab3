// The baseline's trivial workflow: one run that does nothing, so the bench measures Temporal alone.
export async function benchNoop(): Promise<string> {
  return 'ok';
}
