/**
 * A solver-neutral LP/MIP in compressed sparse column form (typed arrays), built incrementally from
 * (row, col, value) triplets: columns and rows are added in any order, then compressed once in
 * O(nonzeros). Large dispatch models are built this way instead of LP text.
 */

export interface LpModel {
  numCols: number;
  numRows: number;
  /** true: maximize Σ colCost·x + offset. */
  maximize: boolean;
  offset: number;
  colCost: Float64Array;
  colLower: Float64Array;
  colUpper: Float64Array;
  rowLower: Float64Array;
  rowUpper: Float64Array;
  /** CSC: column j's entries are starts[j]..starts[j+1] of rowIndex/value. */
  starts: Int32Array;
  rowIndex: Int32Array;
  value: Float64Array;
  /** 1 = integer column; omitted = all continuous. */
  integrality?: Int32Array;
}

class F64 {
  data: Float64Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Float64Array(capacity);
  }
  push(v: number): number {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length] = v;
    return this.length++;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

class I32 {
  data: Int32Array;
  length = 0;
  constructor(capacity = 1024) {
    this.data = new Int32Array(capacity);
  }
  push(v: number): number {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length] = v;
    return this.length++;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

export class LpBuilder {
  private readonly cost: F64;
  private readonly lo: F64;
  private readonly hi: F64;
  private readonly integer: I32;
  private anyInteger = false;
  private readonly rLo: F64;
  private readonly rHi: F64;
  private readonly tRow: I32;
  private readonly tCol: I32;
  private readonly tVal: F64;
  offset = 0;

  constructor(expectedCols = 1024, expectedRows = 1024, expectedNonzeros = 4096) {
    this.cost = new F64(expectedCols);
    this.lo = new F64(expectedCols);
    this.hi = new F64(expectedCols);
    this.integer = new I32(expectedCols);
    this.rLo = new F64(expectedRows);
    this.rHi = new F64(expectedRows);
    this.tRow = new I32(expectedNonzeros);
    this.tCol = new I32(expectedNonzeros);
    this.tVal = new F64(expectedNonzeros);
  }

  get numCols(): number {
    return this.cost.length;
  }
  get numRows(): number {
    return this.rLo.length;
  }

  /** Adds a column and returns its index. */
  col(cost: number, lower: number, upper: number, integer = false): number {
    this.cost.push(cost);
    this.lo.push(lower);
    this.hi.push(upper);
    this.integer.push(integer ? 1 : 0);
    if (integer) this.anyInteger = true;
    return this.cost.length - 1;
  }

  /** Adds a row lower ≤ a·x ≤ upper (use ±Infinity for a free side) and returns its index. */
  row(lower: number, upper: number): number {
    this.rLo.push(lower);
    return this.rHi.push(upper);
  }

  /** Adds a coefficient; a (row, col) pair must be given at most once. */
  coef(row: number, col: number, value: number): void {
    if (value === 0) return;
    this.tRow.push(row);
    this.tCol.push(col);
    this.tVal.push(value);
  }

  /** Compresses the triplets into CSC (rows ascending within each column). */
  build(maximize: boolean): LpModel {
    const numCols = this.numCols;
    const numRows = this.numRows;
    const nnz = this.tVal.length;
    const tCol = this.tCol.view();
    const tRow = this.tRow.view();
    const tVal = this.tVal.view();
    const starts = new Int32Array(numCols + 1);
    for (let k = 0; k < nnz; k++) {
      const j = (tCol[k] as number) + 1;
      starts[j] = (starts[j] as number) + 1;
    }
    for (let j = 0; j < numCols; j++) starts[j + 1] = (starts[j + 1] as number) + (starts[j] as number);
    const next = starts.slice(0, numCols);
    const rowIndex = new Int32Array(nnz);
    const value = new Float64Array(nnz);
    // Counting sort by row first, then by column: stable, so rows end up ascending in each column.
    const byRow = new Int32Array(numRows + 1);
    for (let k = 0; k < nnz; k++) {
      const r = (tRow[k] as number) + 1;
      byRow[r] = (byRow[r] as number) + 1;
    }
    for (let i = 0; i < numRows; i++) byRow[i + 1] = (byRow[i + 1] as number) + (byRow[i] as number);
    const order = new Int32Array(nnz);
    for (let k = 0; k < nnz; k++) {
      const r = tRow[k] as number;
      const at = byRow[r] as number;
      byRow[r] = at + 1;
      order[at] = k;
    }
    for (let q = 0; q < nnz; q++) {
      const k = order[q] as number;
      const j = tCol[k] as number;
      const pos = next[j] as number;
      next[j] = pos + 1;
      rowIndex[pos] = tRow[k] as number;
      value[pos] = tVal[k] as number;
    }
    const model: LpModel = {
      numCols,
      numRows,
      maximize,
      offset: this.offset,
      colCost: this.cost.view().slice(),
      colLower: this.lo.view().slice(),
      colUpper: this.hi.view().slice(),
      rowLower: this.rLo.view().slice(),
      rowUpper: this.rHi.view().slice(),
      starts,
      rowIndex,
      value,
    };
    if (this.anyInteger) model.integrality = this.integer.view().slice();
    return model;
  }
}

/** Row activities A·x of a model for a column vector (for checks and tests). */
export function rowActivity(model: LpModel, x: Float64Array): Float64Array {
  const act = new Float64Array(model.numRows);
  for (let j = 0; j < model.numCols; j++) {
    const xj = x[j] as number;
    if (xj === 0) continue;
    for (let k = model.starts[j] as number; k < (model.starts[j + 1] as number); k++) {
      const r = model.rowIndex[k] as number;
      act[r] = (act[r] as number) + (model.value[k] as number) * xj;
    }
  }
  return act;
}

/** Objective Σ cost·x + offset. */
export function objectiveValue(model: LpModel, x: Float64Array): number {
  let s = model.offset;
  for (let j = 0; j < model.numCols; j++) s += (model.colCost[j] as number) * (x[j] as number);
  return s;
}
