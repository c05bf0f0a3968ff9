import {
  elementScroll,
  measureElement,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
} from '@tanstack/virtual-core';
import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import { formatTime, type Message, pretty, type Shown } from './format';

/**
 * Bidirectional-override and invisible formatting characters are shown as visible
 * `<U+202E>` marks, so a key or value cannot disguise itself by reordering the text.
 */
const CONTROL = /[\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g;
export const visible = (text: string) =>
  text.replace(CONTROL, (c) => `<U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}>`);

const Payload = ({ shown, json }: { shown: Shown | null; json?: boolean }) => {
  if (shown === null) return <span class="muted">null</span>;
  if (shown.binary)
    return (
      <span>
        <span class="tag">base64</span> <bdi>{shown.text}</bdi>
      </span>
    );
  return json ? <pre>{visible(pretty(shown.text))}</pre> : <bdi>{visible(shown.text)}</bdi>;
};

/** The virtual list of tanstack/virtual-core, bound to Preact: only the rows in view are in the DOM. */
const useVirtualizer = (count: number, scrollRef: { current: HTMLElement | null }) => {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const [virtualizer] = useState(
    () =>
      new Virtualizer<HTMLElement, HTMLElement>({
        count,
        getScrollElement: () => scrollRef.current,
        // A one-line row; taller rows (pretty-printed JSON) are measured as they render.
        estimateSize: () => 34,
        overscan: 8,
        scrollToFn: elementScroll,
        observeElementRect,
        observeElementOffset,
        measureElement,
        onChange: () => rerender(0),
      }),
  );
  virtualizer.setOptions({ ...virtualizer.options, count });
  useLayoutEffect(() => virtualizer._didMount(), [virtualizer]);
  useLayoutEffect(() => virtualizer._willUpdate());
  return virtualizer;
};

/** The message browser's table; with `follow`, it keeps the newest row in view (live tail). */
export const MessageTable = ({ messages, follow = false }: { messages: Message[]; follow?: boolean }) => {
  const scrollRef = useRef<HTMLTableSectionElement>(null);
  const virtualizer = useVirtualizer(messages.length, scrollRef);
  useEffect(() => {
    if (follow && messages.length > 0) virtualizer.scrollToIndex(messages.length - 1, { align: 'end' });
  }, [follow, messages.length, virtualizer]);
  const items = virtualizer.getVirtualItems();
  return (
    <table class="messages" aria-label="Messages" aria-rowcount={messages.length + 1}>
      <thead>
        <tr class="mrow head" aria-rowindex={1}>
          <th scope="col">Offset</th>
          <th scope="col">Partition</th>
          <th scope="col">Time</th>
          <th scope="col">Key</th>
          <th scope="col">Value</th>
          <th scope="col">Headers</th>
        </tr>
      </thead>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the scroll area is reachable by keyboard, to scroll it with the arrow keys */}
      <tbody class="scroll" ref={scrollRef} tabIndex={0}>
        <tr class="spacer" style={{ height: `${virtualizer.getTotalSize()}px` }} />
        {items.map((item) => {
          const m = messages[item.index];
          if (!m) return null;
          return (
            <tr
              key={`${m.partition}:${m.offset}`}
              class="mrow"
              aria-rowindex={item.index + 2}
              data-index={item.index}
              ref={(el) => {
                if (el) virtualizer.measureElement(el);
              }}
              style={{ transform: `translateY(${item.start}px)` }}
            >
              <td class="num">{m.offset}</td>
              <td class="num">{m.partition}</td>
              <td class="time">{formatTime(m.timestamp)}</td>
              <td>
                <Payload shown={m.key} />
              </td>
              <td>
                <Payload shown={m.value} json />
              </td>
              <td>
                {m.headers.length === 0 ? null : (
                  <ul class="headers">
                    {m.headers.map((h, i) => (
                      <li key={i}>
                        <bdi>{visible(h.key)}</bdi>: <Payload shown={h.value} />
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
};
