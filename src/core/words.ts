// Counts in messages, the way a person writes them: "1 cluster", "2 clusters".

/** `n` and the noun, singular for one. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}
