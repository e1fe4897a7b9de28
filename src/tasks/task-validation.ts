/** Input rules for tasks and runs (ACR's limits). */
import { TaskError } from './task-service.ts';

const taskNamePattern = /^[A-Za-z0-9_-]{5,50}$/;
const platformPattern = /^(linux|windows)(?:\/(amd64|arm64|arm|386)(?:\/(v6|v7|v8))?)?$/;

export const MIN_TIMEOUT_SECONDS = 300;
export const MAX_TIMEOUT_SECONDS = 28_800;
export const DEFAULT_TIMEOUT_SECONDS = 3600;

export function checkTaskName(name: string): void {
  if (!taskNamePattern.test(name)) {
    throw new TaskError('invalid', `invalid task name "${name}": use 5 to 50 letters, digits, hyphens or underscores`);
  }
}

export function checkTimeout(seconds: number | undefined): number {
  if (seconds === undefined) return DEFAULT_TIMEOUT_SECONDS;
  if (!Number.isInteger(seconds) || seconds < MIN_TIMEOUT_SECONDS || seconds > MAX_TIMEOUT_SECONDS) {
    throw new TaskError('invalid', `invalid timeout ${seconds}: use ${MIN_TIMEOUT_SECONDS} to ${MAX_TIMEOUT_SECONDS} seconds`);
  }
  return seconds;
}

/** `os[/arch[/variant]]` → `os/arch[/variant]` (architecture amd64 when omitted). */
export function normalisePlatform(platform: string | undefined, fallback: string): string {
  if (platform === undefined || platform === '') return fallback;
  const match = platformPattern.exec(platform.toLowerCase());
  if (!match) {
    throw new TaskError('invalid', `invalid platform "${platform}": use os/architecture[/variant], e.g. linux/amd64, linux/arm64 or linux/arm/v7`);
  }
  const [, os, architecture = 'amd64', variant] = match;
  return [os, architecture, variant].filter((part) => part !== undefined).join('/');
}

/** `/dev/null` and empty mean no context. */
export function contextLocation(location: string | null | undefined): string | null {
  if (location === undefined || location === null || location === '' || location === '/dev/null') return null;
  return location;
}

export function isTaskFilePath(file: string): boolean {
  return /\.ya?ml$/i.test(file);
}

export function checkValueName(name: string): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(name)) throw new TaskError('invalid', `invalid value name "${name}"`);
}
