/**
 * Live completion and exercise checks across the workshop's notebooks: open notebooks are counted
 * from their model as cells run (before any save), the others from their saved file, read again
 * when the file changes.
 * An open notebook is followed by its document context, which all its views share and which
 * follows renames.
 */
import type { DocumentRegistry } from '@jupyterlab/docregistry';
import type { INotebookModel, INotebookTracker } from '@jupyterlab/notebook';
import type { Contents } from '@jupyterlab/services';
import type { ICodeCellModel } from '@jupyterlab/cells';
import { type ISignal, Signal } from '@lumino/signaling';
import { type CheckCellLike, type Checks, countChecks, sumChecks } from './checks';
import { type Counts, countCells, isWorkshopNotebook, sumCounts } from './progress';

/** What the top bar shows and the service stores: cells run, and checks passed. */
export interface Progress extends Counts {
  checks: Checks;
}

const NOTHING: Progress = { executed: 0, total: 0, checks: { passed: 0, total: 0 } };

/** One notebook's progress, from its cells as nbformat writes them. */
function progressOf(cells: CheckCellLike[]): Progress {
  return { ...countCells(cells), checks: countChecks(cells) };
}

/** The model's cells in nbformat's shape, so the rules read the live notebook as they read a file. */
function modelCells(model: INotebookModel): CheckCellLike[] {
  const cells: CheckCellLike[] = [];
  for (const cell of model.cells) {
    const code = cell.type === 'code' ? (cell as ICodeCellModel) : null;
    const outputs = code ? Array.from({ length: code.outputs.length }, (_, i) => ({ output_type: code.outputs.get(i).type })) : [];
    cells.push({ cell_type: cell.type, execution_count: code?.executionCount ?? null, metadata: { tags: cell.getMetadata('tags') }, outputs });
  }
  return cells;
}

export class LiveProgress {
  private readonly counts = new Map<string, Progress>();
  /** Paths of the notebooks open in this JupyterLab, counted from their models. */
  private readonly live = new Set<string>();
  private readonly followed = new WeakSet<DocumentRegistry.Context>();
  private readonly _changed = new Signal<this, Progress>(this);

  constructor(
    private readonly folder: string,
    private readonly contents: Contents.IManager,
    private readonly tracker: INotebookTracker,
  ) {}

  /** Emitted with the new total whenever a count changes. */
  get changed(): ISignal<this, Progress> {
    return this._changed;
  }

  get total(): Progress {
    const all = [...this.counts.values()];
    return { ...sumCounts(all), checks: sumChecks(all.map((p) => p.checks)) };
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
      if (this.counted(path)) this.set(path, progressOf(modelCells(context.model)));
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
    let counts: Progress;
    try {
      const model = await this.contents.get(path, { content: true, type: 'notebook' });
      counts = progressOf((model.content as { cells?: CheckCellLike[] }).cells ?? []);
    } catch (e) {
      // Gone meanwhile: nothing to count. Unreadable (not JSON): nothing done, as CLEANUP counts it.
      if ((e as { response?: Response }).response?.status === 404) return this.forget(path);
      counts = NOTHING;
    }
    if (!this.live.has(path)) this.set(path, counts); // opened meanwhile: its model is newer than the file
  }

  private set(path: string, counts: Progress): void {
    const before = this.counts.get(path);
    if (before && JSON.stringify(before) === JSON.stringify(counts)) return;
    this.counts.set(path, counts);
    this._changed.emit(this.total);
  }
}
