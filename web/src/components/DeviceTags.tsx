import { useState } from 'preact/hooks';
import { del, get, post } from '../api';
import { ErrorMessage, Section } from './Status';
import { useAsync } from '../use-async';

/** A device's tags (what static and dynamic groups and deployment filters select on), with add and remove. */
export function DeviceTags({ id }: { id: string }) {
  const path = `/devices/${encodeURIComponent(id)}/tags`;
  const tags = useAsync(() => get<{ tags: string[] }>(path), [id]);
  const [text, setText] = useState('');
  const [error, setError] = useState<Error>();

  async function run(action: Promise<unknown>) {
    setError(undefined);
    try {
      await action;
      tags.reload();
    } catch (err) {
      setError(err as Error);
    }
  }

  function add(e: Event) {
    e.preventDefault();
    const names = text.split(/[\s,]+/).filter(Boolean);
    if (names.length === 0) return;
    setText('');
    void run(post(path, { tags: names }));
  }

  return (
    <Section title="Tags">
      <ErrorMessage error={tags.error ?? error} />
      {tags.data && tags.data.tags.length === 0 && <p class="muted">No tags.</p>}
      <ul class="tags" data-testid="tags">
        {tags.data?.tags.map((tag) => (
          <li key={tag}>
            {tag}{' '}
            <button
              type="button"
              class="link"
              aria-label={`Remove tag ${tag}`}
              onClick={() => void run(del(`${path}/${encodeURIComponent(tag)}`))}
            >
              ×
            </button>
          </li>
        ))}
      </ul>
      <form class="actions" onSubmit={add}>
        <label class="inline tag-input">
          New tags <input value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </label>
        <button type="submit">Add tags</button>
      </form>
    </Section>
  );
}
