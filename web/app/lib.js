// SPDX-License-Identifier: AGPL-3.0-or-later
// Preact + htm, from web/vendor/ (copied there by the Makefile; see docs/WEB.md).
import { h, render, Fragment } from '../vendor/preact.mjs';
import htm from '../vendor/htm.mjs';

export { h, render, Fragment };
export { useState, useEffect, useRef, useMemo, useCallback, useLayoutEffect } from '../vendor/hooks.mjs';
export const html = htm.bind(h);
