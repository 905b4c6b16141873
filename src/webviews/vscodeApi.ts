/**
 * The page's side of the webview channel: typed posting, state, and incoming messages
 * that pass the protocol's type guard (anything else is dropped with a console warning).
 */

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface Channel<Out, State> {
  post(message: Out): void;
  /** Unchecked: callers validate it with the protocol's guard. */
  getState(): unknown;
  setState(state: State): void;
}

let api: VsCodeApi | undefined;

/** acquireVsCodeApi may be called only once per page, so the handle is kept here. */
export function channel<Out, State>(): Channel<Out, State> {
  api ??= acquireVsCodeApi();
  const vscode = api;
  return {
    post: (message) => vscode.postMessage(message),
    getState: () => vscode.getState(),
    setState: (state) => vscode.setState(state),
  };
}

export function onMessage<In>(isValid: (value: unknown) => value is In, handle: (message: In) => void): void {
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (isValid(event.data)) handle(event.data);
    else console.warn('SeqLab: ignored a malformed message', event.data);
  });
}
