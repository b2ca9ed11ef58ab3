/**
 * A layered layout of a DAG for the HTML report's graph: longest-path
 * layering (a node's layer is one more than the highest layer among the
 * nodes it needs; nodes that need nothing are layer 0), then, inside each
 * layer, an order by the mean position of a node's needs (one barycentre
 * sweep, plan order breaking ties) to keep edges short. Pure and linear in
 * nodes plus edges (the sort per layer aside).
 */

/** A node to lay out: its id and the ids it needs (unknown ids are ignored). */
export interface LayoutInput {
  id: string;
  needs: readonly string[];
}

/** Where a node goes: its layer (column, 0 first) and its row inside the layer (0 first). */
export interface LayoutPosition {
  layer: number;
  row: number;
}

/** The layout: a position per node id, and how many layers and rows the largest layer has. */
export interface Layout {
  positions: Map<string, LayoutPosition>;
  layers: number;
  maxRows: number;
}

/**
 * Lays out `nodes` (in plan order). A cycle cannot occur in a compiled plan;
 * should one reach here anyway, the node that closes it is laid out as if it
 * needed nothing on the cycle.
 */
export function layoutDag(nodes: readonly LayoutInput[]): Layout {
  const byId = new Map(nodes.map((n, i) => [n.id, { node: n, index: i }]));
  const layer = new Map<string, number>();
  const visiting = new Set<string>();

  // Iterative DFS so that a long chain of thousands of steps cannot overflow the stack.
  for (const root of nodes) {
    if (layer.has(root.id)) continue;
    const stack: { id: string; next: number }[] = [{ id: root.id, next: 0 }];
    visiting.add(root.id);
    while (stack.length > 0) {
      const top = stack[stack.length - 1] as { id: string; next: number };
      const needs = byId.get(top.id)?.node.needs ?? [];
      if (top.next < needs.length) {
        const need = needs[top.next++] as string;
        if (byId.has(need) && !layer.has(need) && !visiting.has(need)) {
          visiting.add(need);
          stack.push({ id: need, next: 0 });
        }
        continue;
      }
      let l = 0;
      for (const need of needs) {
        const nl = layer.get(need);
        if (nl !== undefined) l = Math.max(l, nl + 1);
      }
      layer.set(top.id, l);
      visiting.delete(top.id);
      stack.pop();
    }
  }

  const columns: string[][] = [];
  for (const n of nodes) {
    const l = layer.get(n.id) ?? 0;
    while (columns.length <= l) columns.push([]);
    columns[l]?.push(n.id);
  }
  const positions = new Map<string, LayoutPosition>();
  columns.forEach((ids, l) => {
    const key = new Map<string, number>();
    for (const id of ids) {
      const rows = (byId.get(id)?.node.needs ?? [])
        .map((need) => positions.get(need)?.row)
        .filter((r): r is number => r !== undefined);
      key.set(
        id,
        rows.length > 0 ? rows.reduce((a, b) => a + b, 0) / rows.length : Number.POSITIVE_INFINITY,
      );
    }
    const ordered = [...ids].sort((a, b) => {
      const ka = key.get(a) as number;
      const kb = key.get(b) as number;
      if (ka !== kb) return ka < kb ? -1 : 1;
      return (byId.get(a)?.index ?? 0) - (byId.get(b)?.index ?? 0);
    });
    ordered.forEach((id, row) => {
      positions.set(id, { layer: l, row });
    });
  });
  return {
    positions,
    layers: columns.length,
    maxRows: Math.max(0, ...columns.map((c) => c.length)),
  };
}
