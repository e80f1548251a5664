import { useEffect, useId, useRef, useState } from 'preact/hooks';

interface Props {
  label: string;
  title: string;
  message: string;
  /** The dialog's confirming button; defaults to `label`. */
  confirmLabel?: string;
  danger?: boolean;
  onConfirm: () => Promise<void> | void;
}

/**
 * A button that asks first, in a modal `<dialog>`: focus moves into the dialog, Escape cancels, and focus
 * returns to the button afterwards (the browser does both for `showModal`).
 */
export function ConfirmButton({ label, title, message, confirmLabel = label, danger, onConfirm }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const titleId = useId();

  useEffect(() => {
    if (open) dialog.current?.showModal();
    else dialog.current?.close();
  }, [open]);

  async function confirm() {
    setBusy(true);
    try {
      await onConfirm();
    } finally {
      setBusy(false);
      setOpen(false);
    }
  }

  return (
    <>
      <button type="button" class={danger ? 'danger' : undefined} onClick={() => setOpen(true)}>
        {label}
      </button>
      <dialog ref={dialog} onClose={() => setOpen(false)} aria-labelledby={titleId}>
        <h2 id={titleId}>{title}</h2>
        <p>{message}</p>
        <div class="actions">
          <button type="button" onClick={() => setOpen(false)} disabled={busy}>
            Cancel
          </button>
          <button
            type="button"
            class={danger ? 'danger' : 'primary'}
            onClick={confirm}
            disabled={busy}
            autofocus
          >
            {confirmLabel}
          </button>
        </div>
      </dialog>
    </>
  );
}
