/**
 * Live completion across the workshop's notebooks: open notebooks are counted from their model as
 * cells run (before any save), the others from their saved file, read again when the file changes.
 * An open notebook is followed by its document context, which all its views share and which
 * follows renames.
 */
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookModel, INotebookTracker } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
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
  /** Paths of the notebooks open in this JupyterLab, counted from their models. */
  private readonly live = new Set<string>();
  private readonly followed = new WeakSet<DocumentRegistry.Context>();
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
    this.tracker.forEach((panel) => this.follow(panel.context));
    this.tracker.widgetAdded.connect((_, panel) => this.follow(panel.context));
    this.contents.fileChanged.connect((_, change) => this.onFileChanged(change));
    const listing = await this.contents.get(this.folder, { content: true });
    const paths = (listing.content as Contents.IModel[]).filter((m) => m.type === 'notebook' && this.counted(m.path)).map((m) => m.path);
    await Promise.all(paths.map((p) => this.readSaved(p)));
    this._changed.emit(this.total);
  }

  private counted(path: string): boolean {
    return isWorkshopNotebook(path, this.folder);
  }

  private follow(context: DocumentRegistry.IContext<INotebookModel>): void {
    if (this.followed.has(context)) return;
    this.followed.add(context);
    let path = context.path;
    // contentChanged covers execution counts set by any kernel, cleared outputs, cells added or removed.
    const recount = () => {
      if (this.counted(path)) this.set(path, countCells(modelCells(context.model)));
    };
    context.pathChanged.connect((_, renamed) => {
      this.forget(path);
      path = renamed;
      this.live.add(path);
      recount();
    });
    context.disposed.connect(() => {
      this.live.delete(path);
      // What was not saved is gone with the last view: count the file again.
      if (this.counted(path)) void this.readSaved(path);
    });
    context.ready
      .then(() => {
        if (context.isDisposed) return;
        this.live.add(path);
        context.model.contentChanged.connect(recount);
        recount();
      })
      .catch(() => undefined); // a notebook that cannot open counts as its saved file
  }

  private onFileChanged(change: Contents.IChangedArgs): void {
    const oldPath = change.oldValue?.path;
    const newPath = change.newValue?.path;
    if (oldPath && oldPath !== newPath) this.forget(oldPath);
    if (newPath && this.counted(newPath) && !this.live.has(newPath)) void this.readSaved(newPath);
  }

  /** A path that no longer holds a counted notebook (deleted, renamed away). */
  private forget(path: string): void {
    this.live.delete(path);
    if (this.counts.delete(path)) this._changed.emit(this.total);
  }

  private async readSaved(path: string): Promise<void> {
    let counts: Counts;
    try {
      const model = await this.contents.get(path, { content: true, type: 'notebook' });
      counts = countCells((model.content as { cells?: CellLike[] }).cells ?? []);
    } catch (e) {
      // Gone meanwhile: nothing to count. Unreadable (not JSON): nothing done, as CLEANUP counts it.
      if ((e as { response?: Response }).response?.status === 404) return this.forget(path);
      counts = { executed: 0, total: 0 };
    }
    if (!this.live.has(path)) this.set(path, counts); // opened meanwhile: its model is newer than the file
  }

  private set(path: string, counts: Counts): void {
    const before = this.counts.get(path);
    if (before && before.executed === counts.executed && before.total === counts.total) return;
    this.counts.set(path, counts);
    this._changed.emit(this.total);
  }
}
