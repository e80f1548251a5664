import { useState } from 'preact/hooks';

interface Props {
  onFiles: (files: File[]) => void;
  disabled?: boolean;
}

/**
 * Drop files here, or activate it to choose them: the zone is the label of a real `<input type=file>`, so a
 * keyboard or screen-reader user gets the ordinary file picker.
 */
export function UploadDropZone({ onFiles, disabled }: Props) {
  const [over, setOver] = useState(false);

  function drop(event: DragEvent) {
    event.preventDefault();
    setOver(false);
    if (!disabled) onFiles([...(event.dataTransfer?.files ?? [])]);
  }

  return (
    <label
      class={`drop-zone${over ? ' over' : ''}`}
      data-testid="drop-zone"
      onDragOver={(event) => {
        event.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <input
        type="file"
        multiple
        class="visually-hidden"
        disabled={disabled}
        onChange={(event) => {
          const input = event.currentTarget;
          onFiles([...(input.files ?? [])]);
          input.value = '';
        }}
      />
      <strong>Drop firmware files here</strong>
      <span class="muted">or click to choose them. Each file becomes an artifact named after it.</span>
    </label>
  );
}
