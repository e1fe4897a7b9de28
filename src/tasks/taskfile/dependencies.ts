/**
 * The step graph of ACR's runner: a step without `when` waits for the step above it (the
 * first for nothing), `when: ["-"]` starts at once, and `when: [a, b]` waits for both.
 * Unlike ACR, a step may wait for one written below it, so cycles are looked for.
 */
import type { Located } from './yaml-fields.ts';
import type { IssueLog } from './task-file-error.ts';

export const IMMEDIATE = '-';

export interface StepLinks {
  id: string;
  line: number;
  /** The `when` entries, or undefined when the step has none. */
  when?: Located<string>[];
}

/** Each step's `dependsOn`, in step order; problems go to `issues`. */
export function resolveDependencies(steps: StepLinks[], issues: IssueLog): string[][] {
  const ids = new Set(steps.map((step) => step.id));
  const dependsOn = steps.map((step, index): string[] => {
    if (!step.when || step.when.length === 0) {
      const previous = steps[index - 1];
      return previous ? [previous.id] : [];
    }
    if (step.when.some((entry) => entry.value === IMMEDIATE)) {
      if (step.when.length > 1) {
        issues.error(step.when[0]?.line ?? step.line, `'when' cannot combine '${IMMEDIATE}' with step ids`);
      }
      return [];
    }
    const waits: string[] = [];
    for (const { value, line } of step.when) {
      if (value === step.id) issues.error(line, `step '${step.id}' cannot wait for itself`);
      else if (!ids.has(value)) issues.error(line, `'when' names step '${value}', which does not exist`);
      else if (!waits.includes(value)) waits.push(value);
    }
    return waits;
  });
  reportCycles(steps, dependsOn, issues);
  return dependsOn;
}

/** Reports each cycle once, as the path through it from its first step in the file. */
function reportCycles(steps: StepLinks[], dependsOn: string[][], issues: IssueLog): void {
  const index = new Map(steps.map((step, position) => [step.id, position]));
  const edges = dependsOn.map((ids) => ids.map((id) => index.get(id) ?? -1).filter((target) => target >= 0));
  for (const component of stronglyConnected(edges)) {
    if (component.length < 2) continue;
    const start = Math.min(...component);
    const path = shortestCycle(start, new Set(component), edges).map((position) => steps[position]?.id ?? '');
    const first = steps[start];
    issues.error(first?.line ?? 1, `steps wait for each other in a cycle: ${path.join(' → ')} (through 'when')`);
  }
}

/** Tarjan's algorithm, iteratively: the strongly connected components of the graph. */
function stronglyConnected(edges: number[][]): number[][] {
  const order: number[] = new Array(edges.length).fill(-1);
  const low: number[] = new Array(edges.length).fill(0);
  const onStack: boolean[] = new Array(edges.length).fill(false);
  const stack: number[] = [];
  const components: number[][] = [];
  let counter = 0;

  for (let root = 0; root < edges.length; root++) {
    if (order[root] !== -1) continue;
    const work: Array<{ node: number; next: number }> = [{ node: root, next: 0 }];
    order[root] = low[root] = counter++;
    stack.push(root);
    onStack[root] = true;
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = edges[frame.node] ?? [];
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (order[target] === -1) {
          order[target] = low[target] = counter++;
          stack.push(target);
          onStack[target] = true;
          work.push({ node: target, next: 0 });
        } else if (onStack[target]) {
          low[frame.node] = Math.min(low[frame.node]!, order[target]!);
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low[parent.node] = Math.min(low[parent.node]!, low[frame.node]!);
      if (low[frame.node] === order[frame.node]) {
        const component: number[] = [];
        let member: number;
        do {
          member = stack.pop()!;
          onStack[member] = false;
          component.push(member);
        } while (member !== frame.node);
        components.push(component);
      }
    }
  }
  return components;
}

/** Breadth-first from `start` back to itself within `members`: the nodes along the way, start at both ends. */
function shortestCycle(start: number, members: Set<number>, edges: number[][]): number[] {
  const cameFrom = new Map<number, number>();
  const queue = [start];
  for (let head = 0; head < queue.length; head++) {
    const node = queue[head]!;
    for (const target of edges[node] ?? []) {
      if (!members.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at: number | undefined = node; at !== undefined && at !== start; at = cameFrom.get(at)) path.unshift(at);
        return [start, ...path];
      }
      if (!cameFrom.has(target)) {
        cameFrom.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}
