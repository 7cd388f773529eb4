import Link from "next/link";

export default function NotFound() {
  return (
    <div className="max-w-lg rounded border border-slate-200 bg-white p-4">
      <h1 className="font-semibold">Not found</h1>
      <p className="mt-1 text-slate-600">There is nothing at this address. It may have been removed, or the link is wrong.</p>
      <Link href="/" className="mt-3 inline-block text-sky-800 hover:underline">Back to the overview</Link>
    </div>
  );
}
