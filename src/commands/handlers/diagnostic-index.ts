/** The diagnostic, administrative and session-bookkeeping commands; the registry spreads this list. */
import type { CommandDefinition } from '../types.js';
import { authenticateCommand } from './authenticate.js';
import { collStatsCommand } from './collStats.js';
import { connectionStatusCommand } from './connectionStatus.js';
import { countCommand } from './count.js';
import { currentOpCommand } from './currentOp.js';
import { dbStatsCommand } from './dbStats.js';
import { distinctCommand } from './distinct.js';
import { endSessionsCommand } from './endSessions.js';
import { getCmdLineOptsCommand } from './getCmdLineOpts.js';
import { getDefaultRWConcernCommand } from './getDefaultRWConcern.js';
import { getLogCommand } from './getLog.js';
import { getParameterCommand } from './getParameter.js';
import { hostInfoCommand } from './hostInfo.js';
import { killOpCommand } from './killOp.js';
import { listCommandsCommand } from './listCommands.js';
import { listDatabasesCommand } from './listDatabases.js';
import { logoutCommand } from './logout.js';
import { replSetGetConfigCommand } from './replSetGetConfig.js';
import { replSetGetStatusCommand } from './replSetGetStatus.js';
import { saslContinueCommand } from './saslContinue.js';
import { saslStartCommand } from './saslStart.js';
import { serverStatusCommand } from './serverStatus.js';
import { setParameterCommand } from './setParameter.js';
import { whatsmyuriCommand } from './whatsmyuri.js';

export const DIAGNOSTIC_COMMANDS: readonly CommandDefinition[] = [
  authenticateCommand,
  collStatsCommand,
  connectionStatusCommand,
  countCommand,
  currentOpCommand,
  dbStatsCommand,
  distinctCommand,
  endSessionsCommand,
  getCmdLineOptsCommand,
  getDefaultRWConcernCommand,
  getLogCommand,
  getParameterCommand,
  hostInfoCommand,
  killOpCommand,
  listCommandsCommand,
  listDatabasesCommand,
  logoutCommand,
  replSetGetConfigCommand,
  replSetGetStatusCommand,
  saslContinueCommand,
  saslStartCommand,
  serverStatusCommand,
  setParameterCommand,
  whatsmyuriCommand,
];
