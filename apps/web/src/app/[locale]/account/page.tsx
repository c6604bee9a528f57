import { AccountPanel } from '../../../components/account/AccountPanel.tsx';
import { Heading } from '../../../components/account/Heading.tsx';

export default function AccountPage() {
  return (
    <>
      <Heading messageKey="accountTitle" />
      <AccountPanel />
    </>
  );
}
