// The "Limelight" output channel, with a level taken from the limelight.logLevel setting.
import * as vscode from 'vscode';
import type { LogLevel } from './settings';

const RANK: Record<LogLevel, number> = { off: 0, error: 1, warn: 2, info: 3, debug: 4 };

export class Logger implements vscode.Disposable {
  private readonly channel = vscode.window.createOutputChannel('Limelight');
  private level: LogLevel = 'info';

  setLevel(level: LogLevel): void {
    this.level = level;
  }

  error(message: string): void {
    this.write('error', message);
  }

  warn(message: string): void {
    this.write('warn', message);
  }

  info(message: string): void {
    this.write('info', message);
  }

  debug(message: string): void {
    this.write('debug', message);
  }

  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }

  private write(level: Exclude<LogLevel, 'off'>, message: string): void {
    if (RANK[level] > RANK[this.level]) return;
    this.channel.appendLine(`${new Date().toISOString()} [${level}] ${message}`);
  }
}
