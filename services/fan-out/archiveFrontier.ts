// Late registration data is reconciled against the archive, and the archive is filled by the
// archiver after the fan-out commits, so the two must be put in order: before partition p
// reconciles own:changes up to some entry, every copy p committed before that entry was written
// must be in the archive. Called under p's lock (no transaction of p is open), the frontier notes
// the stream's last entry, then the high watermarks of visibility.archive; once the archiver's
// committed offsets reach those marks, every copy p committed before that entry is archived, and p
// may read changes up to it. p's copies come only from p's transactions, so other partitions'
// open transactions do not matter. No I/O here: the caller passes the reads in.

/** `<ms>-<seq>` stream ids, compared numerically. Pure. */
export function streamIdBefore(a: string, b: string): boolean {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am < bm || (am === bm && as < bs);
}

export interface ArchiveProgress {
  /** Id of the newest own:changes entry ('0-0' when empty). */
  latestChange(): Promise<string>;
  /** visibility.archive's high watermark per partition. */
  highWatermarks(): Promise<Map<number, bigint>>;
  /** The archiver group's committed offset per partition of visibility.archive (absent: none). */
  archiverCommitted(): Promise<Map<number, bigint>>;
}

export class ArchiveFrontier {
  /** Per input partition: changes up to this id may be reconciled. */
  private readonly confirmed = new Map<number, string>();
  /** Per input partition: a change id waiting for the archiver to reach these marks. */
  private readonly waiting = new Map<number, { through: string; marks: Map<number, bigint> }>();

  constructor(private readonly progress: ArchiveProgress) {}

  /**
   * The newest own:changes id partition p may reconcile past `cursor`, or undefined when there is
   * nothing new or the archiver has not caught up yet (asked again next tick).
   */
  async through(partition: number, cursor: string): Promise<string | undefined> {
    const confirmed = this.confirmed.get(partition);
    if (confirmed !== undefined && streamIdBefore(cursor, confirmed)) return confirmed;
    const pending = this.waiting.get(partition);
    if (pending) {
      if (!(await this.reached(pending.marks))) return undefined;
      this.waiting.delete(partition);
      this.confirmed.set(partition, pending.through);
      return streamIdBefore(cursor, pending.through) ? pending.through : undefined;
    }
    const latest = await this.progress.latestChange(); // first the entry, then the marks
    if (!streamIdBefore(cursor, latest)) return undefined;
    const marks = await this.progress.highWatermarks();
    if (await this.reached(marks)) {
      this.confirmed.set(partition, latest);
      return latest;
    }
    this.waiting.set(partition, { through: latest, marks });
    return undefined;
  }

  /** The partition went to another instance: what was noted for it no longer holds. */
  forget(partition: number): void {
    this.confirmed.delete(partition);
    this.waiting.delete(partition);
  }

  private async reached(marks: Map<number, bigint>): Promise<boolean> {
    if ([...marks.values()].every((mark) => mark === 0n)) return true;
    const committed = await this.progress.archiverCommitted();
    return [...marks].every(([partition, mark]) => mark === 0n || (committed.get(partition) ?? -1n) >= mark);
  }
}
