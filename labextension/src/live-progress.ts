/**
 * Live completion across the workshop's notebooks: open notebooks are counted from their model as
 * cells run (before any save), the others from their saved file, refreshed when the file changes.
 */
import type { Contents } from '@jupyterlab/services';
import type { INotebookModel, INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { ICodeCellModel } from '@jupyterlab/cells';
import { type ISignal, Signal } from '@lumino/signaling';
import { type CellLike, type Counts, countCells, isWorkshopNotebook, sumCounts } from './progress';

function modelCells(model: INotebookModel): CellLike[] {
  const cells: CellLike[] = [];
  for (const cell of model.cells) {
    cells.push({ cell_type: cell.type, execution_count: cell.type === 'code' ? (cell as ICodeCellModel).executionCount : null });
  }
  return cells;
}

export class LiveProgress {
  private readonly counts = new Map<string, Counts>();
  private readonly live = new Set<string>();
  private readonly _changed = new Signal<this, Counts>(this);

  constructor(
    private readonly folder: string,
    private readonly contents: Contents.IManager,
    private readonly tracker: INotebookTracker,
  ) {}

  /** Emitted with the new total whenever a count changes. */
  get changed(): ISignal<this, Counts> {
    return this._changed;
  }

  get total(): Counts {
    return sumCounts(this.counts.values());
  }

  /** Reads the saved notebooks, then follows open ones and file changes. */
  async start(): Promise<void> {
    const listing = await this.contents.get(this.folder, { content: true });
    const paths = (listing.content as Contents.IModel[]).filter((m) => m.type === 'notebook' && isWorkshopNotebook(m.path, this.folder)).map((m) => m.path);
    await Promise.all(paths.map((p) => this.readSaved(p)));
    this.tracker.forEach((panel) => this.follow(panel));
    this.tracker.widgetAdded.connect((_, panel) => this.follow(panel));
    this.contents.fileChanged.connect((_, change) => this.onFileChanged(change));
    this._changed.emit(this.total);
  }

  private follow(panel: NotebookPanel): void {
    void panel.context.ready.then(() => {
      const path = panel.context.path;
      if (!isWorkshopNotebook(path, this.folder) || panel.isDisposed) return;
      const model = panel.context.model;
      this.live.add(path);
      // contentChanged covers execution counts set by any kernel, cleared outputs, cells added or removed.
      const recount = () => this.set(path, countCells(modelCells(model)));
      model.contentChanged.connect(recount);
      recount();
      panel.disposed.connect(() => {
        model.contentChanged.disconnect(recount);
        this.live.delete(path);
        // What was not saved is gone with the panel: count the file again.
        void this.readSaved(path);
      });
    });
  }

  private onFileChanged(change: Contents.IChangedArgs): void {
    const oldPath = change.oldValue?.path;
    const newPath = change.newValue?.path;
    if (oldPath && oldPath !== newPath && this.counts.delete(oldPath)) this._changed.emit(this.total);
    if (newPath && isWorkshopNotebook(newPath, this.folder) && !this.live.has(newPath)) void this.readSaved(newPath);
  }

  private async readSaved(path: string): Promise<void> {
    try {
      const model = await this.contents.get(path, { content: true, type: 'notebook' });
      if (this.live.has(path)) return; // opened meanwhile: its model is newer than the file
      this.set(path, countCells((model.content as { cells?: CellLike[] }).cells ?? []));
    } catch {
      // Unreadable (being written, or not JSON): counts as nothing done, like CLEANUP does.
      this.set(path, { executed: 0, total: 0 });
    }
  }

  private set(path: string, counts: Counts): void {
    const before = this.counts.get(path);
    if (before && before.executed === counts.executed && before.total === counts.total) return;
    this.counts.set(path, counts);
    this._changed.emit(this.total);
  }
}
