import { useState } from 'preact/hooks';
import { upload } from '../api';
import { ErrorMessage, Section } from '../components/Status';
import { UploadDropZone } from '../components/UploadDropZone';
import { formatBytes } from '../format';
import { href } from '../router';
import type { Release } from '../types';

/**
 * The release form. The API reads fields before files (it streams each file to storage as it arrives), so the
 * form data is built in that order; each file's field name is its artifact name.
 */
export function ReleaseUpload({ product, onUploaded }: { product: string; onUploaded: () => void }) {
  const [version, setVersion] = useState('');
  const [notes, setNotes] = useState('');
  const [publish, setPublish] = useState(true);
  const [files, setFiles] = useState<File[]>([]);
  const [progress, setProgress] = useState<number>();
  const [error, setError] = useState<Error>();
  const [done, setDone] = useState<Release>();

  const addFiles = (added: File[]) =>
    setFiles((current) => [...current.filter((f) => !added.some((a) => a.name === f.name)), ...added]);

  async function submit(event: Event) {
    event.preventDefault();
    if (files.length === 0) {
      setError(new Error('Add at least one file.'));
      return;
    }
    const form = new FormData();
    form.set('version', version.trim());
    form.set('notes', notes);
    form.set('publish', String(publish));
    for (const file of files) form.append(file.name, file, file.name);
    setError(undefined);
    setDone(undefined);
    setProgress(0);
    try {
      const release = await upload<Release>(
        `/products/${encodeURIComponent(product)}/releases`,
        form,
        setProgress,
      );
      setDone(release);
      setFiles([]);
      setVersion('');
      setNotes('');
      onUploaded();
    } catch (err) {
      setError(err as Error);
      setProgress(undefined);
    }
  }

  const uploading = progress !== undefined && progress < 1 && !error;
  return (
    <Section title="Upload a release">
      <form class="form" onSubmit={submit}>
        <label>
          Version
          <input
            required
            value={version}
            onInput={(e) => setVersion(e.currentTarget.value)}
            placeholder="1.2.0"
          />
        </label>
        <label>
          Notes
          <textarea rows={3} value={notes} onInput={(e) => setNotes(e.currentTarget.value)} />
        </label>
        <label class="check">
          <input type="checkbox" checked={publish} onChange={(e) => setPublish(e.currentTarget.checked)} />
          Publish at once
        </label>
        <UploadDropZone onFiles={addFiles} disabled={uploading} />
        {files.length > 0 && (
          <ul class="plain files" aria-label="Files to upload">
            {files.map((f) => (
              <li key={f.name}>
                {f.name} <span class="muted">{formatBytes(f.size)}</span>{' '}
                <button
                  type="button"
                  class="link"
                  aria-label={`Remove ${f.name}`}
                  onClick={() => setFiles(files.filter((x) => x !== f))}
                >
                  remove
                </button>
              </li>
            ))}
          </ul>
        )}
        {progress !== undefined && (
          <label>
            Upload progress
            <progress max={1} value={progress} data-testid="upload-progress">
              {Math.round(progress * 100)}%
            </progress>
          </label>
        )}
        <ErrorMessage error={error} />
        {done && (
          <p role="status" class="ok">
            Uploaded <a href={href.release(done.product, done.version)}>{done.version}</a> ({done.state}).
          </p>
        )}
        <button type="submit" class="primary" disabled={uploading}>
          Upload
        </button>
      </form>
    </Section>
  );
}
